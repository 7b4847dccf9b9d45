"""One argument parser for the ``fermi`` CLI and the ``%fermi`` magics."""

from __future__ import annotations

import argparse

from ..domain.states import DATA_TYPES, VOLUME_TYPES, JobState, Mode
from ..domain.visibility import Visibility

VERBS_HELP = """\
verbs:
  info                        this server: version, who it acts as, whether the registry answers
  mounts                      what is mounted in this server, with each version's status
  mounts --all                the dataset versions every running server of yours mounts
  volumes [QUERY]             your volumes, with usage and where they are mounted here
  volume create NAME          a new volume (--capacity 100Gi --type ssd|hdd|shared --team T,
                              --zone Z, --access-mode M, --pvc EXISTING-PVC)
  usage VOLUME                one volume's usage against its capacity
  ls [PATH]                   list a folder (a local path, or VOLUME:path through the registry)
  datasets [QUERY]            datasets you can see (--scope mine|team|org|public, --tag, --type)
  show NAME                   one dataset: owner, visibility, tags, aliases
  create NAME                 an empty dataset (register adds versions)
  edit NAME                   change --visibility, --team, --description, --tag, --type, --rename
  versions NAME               a dataset's versions
  register PATH --name NAME   register a folder of a mounted volume as a new dataset
  register PATH --version-of NAME
                              … or as a new version of an existing one (add --wait);
                              PATH may be VOLUME:folder, for a volume not mounted here
  status NAME@N               one version: status, progress, size, lineage
  cancel NAME@N               cancel a registration still running
  verify NAME@N               recompute its manifest and report drift
  restore NAME@N PATH         copy a version into a new folder (local, or VOLUME:folder)
  diff NAME@A NAME@B          files added, removed and changed from A to B (from the manifests)
  lineage NAME@N              the versions it was made from, and those made from it
  manifest NAME@N             its files: path, size, digest
  alias NAME@N ALIAS          set or move an alias (e.g. production) to a ready version
  unalias NAME ALIAS          remove an alias
  delete NAME@N               delete a version (refused while mounted, naming by whom)
  delete NAME --dataset       delete a dataset and all its versions
  jobs [--state S]            your registrations, verifications and restores
  job ID  |  job ID --cancel  one job, or cancel it
  audit                       what you did (everything, for an admin): --action, --target
  events [--dataset NAME]     follow status changes as they happen (Ctrl-C stops)
{transfers}every verb answers --json
"""


class UsageError(Exception):
    """Bad arguments: argparse would exit; we raise so magics can show a line instead."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: fermi help)")


def build() -> argparse.ArgumentParser:
    from . import transfers  # it raises UsageError from here

    p = _Parser(
        prog="fermi",
        description="Datasets and volumes from your Jupyter server.",
        epilog=VERBS_HELP.format(transfers=transfers.HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up waiting (register --wait, verify, restore) after this long; exit code 4",
    )
    # the same options after the verb (`fermi status x@1 --json`); SUPPRESS keeps the top's value
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS")
    sub = p.add_subparsers(
        dest="verb", metavar="VERB", parser_class=_Parser, help="one of the verbs below"
    )

    def verb(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], description=text)  # listed in the epilog

    verb("help", "this help")
    verb("info", "this server and the registry")
    mo = verb("mounts", "what is mounted here")
    mo.add_argument("--all", action="store_true", help="what every running server of yours mounts")
    vs = verb("volumes", "your volumes")
    vs.add_argument("query", nargs="?")
    vc = verb("volume", "create a volume")
    vc.add_argument("action", choices=["create"])
    vc.add_argument("name")
    vc.add_argument("--capacity", default="100Gi")
    vc.add_argument("--type", dest="volume_type", default="ssd", choices=list(VOLUME_TYPES))
    vc.add_argument("--team")
    vc.add_argument("--description", default="")
    vc.add_argument("--zone")
    vc.add_argument(
        "--access-mode", dest="access_mode",
        choices=["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"],
    )  # fmt: skip
    vc.add_argument("--pvc", metavar="PVC", help="an existing PVC instead of platform storage")
    us = verb("usage", "one volume's usage")
    us.add_argument("volume", metavar="VOLUME", help="name or vol-… id")
    ls = verb("ls", "list a folder")
    ls.add_argument("path", nargs="?", default=".")
    ds = verb("datasets", "datasets you can see")
    ds.add_argument("query", nargs="?")
    ds.add_argument("--scope", default="all", choices=["all", "mine", "team", "org", "public"])
    ds.add_argument("--tag")
    ds.add_argument("--owner")
    ds.add_argument("--type", dest="data_type", choices=list(DATA_TYPES))
    sh = verb("show", "one dataset")
    sh.add_argument("name")
    cr = verb("create", "an empty dataset")
    cr.add_argument("name")
    _metadata(cr)
    ed = verb("edit", "change a dataset's metadata")
    ed.add_argument("name")
    ed.add_argument("--rename", metavar="NEW_NAME")
    ed.add_argument("--visibility", choices=[v.value for v in Visibility])
    ed.add_argument("--team")
    ed.add_argument("--description")
    ed.add_argument("--tag", action="append", dest="tags", help="replace the tags (repeat)")
    ed.add_argument("--type", dest="data_type", choices=list(DATA_TYPES))
    ed.add_argument("--zone")
    vr = verb("versions", "versions of a dataset")
    vr.add_argument("name")
    rg = verb("register", "register a folder as a dataset (version)")
    rg.add_argument(
        "path", metavar="PATH", help="a local folder in a mounted volume, or VOLUME:folder"
    )
    target = rg.add_mutually_exclusive_group(required=True)
    target.add_argument("--name", help="a new dataset's name")
    target.add_argument(
        "--version-of", dest="version_of", metavar="NAME", help="add a version to this dataset"
    )
    _metadata(rg)
    rg.add_argument("--mode", default=Mode.snapshot.value, choices=[m.value for m in Mode])
    rg.add_argument("--message", "-m", default="")
    rg.add_argument("--parent", action="append", dest="parents", metavar="NAME@N",
                    help="lineage (default: the dataset versions mounted here)")  # fmt: skip
    rg.add_argument("--wait", action="store_true", help="follow it until ready, with progress")
    for name, text in (
        ("status", "one version"),
        ("cancel", "cancel a running registration"),
        ("verify", "check a version against its manifest"),
        ("lineage", "parents and children of a version"),
        ("manifest", "a version's files"),
    ):
        verb(name, text).add_argument("ref", metavar="NAME@N")
    rs = verb("restore", "copy a version into a new folder")
    rs.add_argument("ref", metavar="NAME@N")
    rs.add_argument(
        "path", metavar="PATH", help="a local folder in a mounted volume, or VOLUME:folder"
    )
    df = verb("diff", "what changed between two versions")
    df.add_argument("base", metavar="NAME@A")
    df.add_argument("target", metavar="NAME@B")
    df.add_argument("--limit", type=int, default=1000, help="files listed per kind")
    al = verb("alias", "set or move an alias")
    al.add_argument("ref", metavar="NAME@N")
    al.add_argument("alias")
    ua = verb("unalias", "remove an alias")
    ua.add_argument("name")
    ua.add_argument("alias")
    de = verb("delete", "delete a version, or with --dataset a whole dataset")
    de.add_argument("ref", metavar="NAME@N")
    de.add_argument("--dataset", action="store_true", help="delete the dataset and all versions")
    jb = verb("jobs", "your jobs")
    jb.add_argument("--state", choices=[s.value for s in JobState])
    j1 = verb("job", "one job")
    j1.add_argument("job_id", type=int, metavar="ID")
    j1.add_argument("--cancel", action="store_true")
    au = verb("audit", "what you did (everything, for an admin), newest first")
    au.add_argument("--action", help="e.g. dataset.delete, version.create, mount.record")
    au.add_argument("--actor", help="who did it")
    au.add_argument("--target", help="a ds-…, ds-…@N or vol-… id")
    au.add_argument("--limit", type=int, default=50)
    ev = verb("events", "follow status changes")
    ev.add_argument("--dataset", metavar="NAME", help="only this dataset")
    ev.add_argument("--count", type=int, default=None, help="stop after this many events")
    transfers.add_verbs(verb)
    return p


def _metadata(p: argparse.ArgumentParser) -> None:
    p.add_argument("--type", dest="data_type", default=None, choices=list(DATA_TYPES))
    p.add_argument("--visibility", default=None, choices=[v.value for v in Visibility])
    p.add_argument("--team")
    p.add_argument("--description")
    p.add_argument("--tag", action="append", dest="tags", default=None)
    p.add_argument("--zone")
