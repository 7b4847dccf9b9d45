"""Versions made before the engine was rebuilt still verify: the manifest format and both
digests are unchanged. The manifest below was written by the earlier engine (main, before the
worker processes) for the tree ``_tree`` makes; mtimes are not part of either digest."""

from __future__ import annotations

import os

from fermi_jupyter.registry.storage import iter_manifest, restore, scan, snapshot, verify

from ..support.trees import independent_digest, make_tree

OLD_DIGEST = "blake3:8e966fb1f838a738fdf97ae81abe944c90622147dc680ea44a045c24f974aaeb"
OLD_MANIFEST = (
    "#fermi-manifest v1\n"
    "empty.txt\t0\t644\t1795664519945597804\t"
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262\n"
    "odd\\tname\\nwith 中文.txt\t3\t644\t1795664519944019798\t"
    "59451e88655d6b928200bc601bdbe9e175daeade4d41e58da1ea237ebfa646ce\n"
    "part-000/sample-000000.bin\t100\t750\t1795664519905286788\t"
    "0cf428f1263a0ffe93367b5a59921922c1efc12046e685feeee82dff2a6a002c\n"
    "part-000/sample-000002.bin\t100\t644\t1795664519922395602\t"
    "7f88c040846159f9c604930576b2ab4554bb3e6e90a3dfdc519ef31e837981a1\n"
    "part-000/sample-000004.bin\t100\t644\t1795664519925639387\t"
    "81e7bcc1e8542f6bb0e6340b7cff64c9bd7b2c70a049335eb783673e5f1c445a\n"
    "part-001/sample-000001.bin\t100\t644\t1795664519906360187\t"
    "1aba9d6bffb249558f37a6b8ac91f0e4f3918598420f804317532c53ac2a9278\n"
    "part-001/sample-000003.bin\t100\t644\t1795664519924807478\t"
    "7a02f4c0c075a4ad89c4d2aec0ba8a4d7b95e3a33990f91dd6d0ad9b7a5a77ae\n"
    "part-001/sample-000005.bin\t100\t644\t1795664519926291042\t"
    "20a29527f4d2faaf7fb8085509c273ab4f404a28a93f492e7b5204ec3439fd88\n"
)


def _tree(src):
    make_tree(src, 6, 100, seed=42, dirs=2)
    (src / "odd\tname\nwith 中文.txt").write_bytes(b"odd")
    (src / "empty.txt").write_bytes(b"")
    os.chmod(src / "part-000" / "sample-000000.bin", 0o750)


def _without_mtimes(text: str) -> list[tuple[str, ...]]:
    rows = [line.split("\t") for line in text.splitlines()[1:]]
    return [(p, size, mode, digest) for p, size, mode, _mtime, digest in rows]


def test_the_same_manifest_and_digests_as_before(layout, volume):
    src = volume / "d"
    _tree(src)
    r = snapshot(layout, src, "ds-compat", 1)
    assert r.digest == OLD_DIGEST == independent_digest(src)[0]
    assert _without_mtimes(r.manifest_path.read_text()) == _without_mtimes(OLD_MANIFEST)
    assert scan(src, layout.manifest_path("ds-ref", 1)).digest == OLD_DIGEST


def test_a_version_made_before_still_verifies_and_restores(layout, volume):
    src = volume / "d"
    _tree(src)
    snapshot(layout, src, "ds-compat", 1)
    old = layout.manifest_path("ds-compat", 1)
    old.write_text(OLD_MANIFEST)  # the manifest exactly as the earlier engine wrote it
    tree = layout.version_dir("ds-compat", 1)
    rep = verify(tree, old, compare_modes=False)
    assert rep.ok and rep.digest == rep.expected_digest == OLD_DIGEST
    assert verify(src, old).ok  # and as a reference version of its source
    out = restore(tree, old, volume / "back")
    assert out.digest == OLD_DIGEST == independent_digest(volume / "back")[0]
    assert [e.path for e in iter_manifest(old)][1] == "odd\tname\nwith 中文.txt"
