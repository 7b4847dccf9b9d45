"""Space: the estimate before a registration, the sweep, restores owned by the volume's owner,
and browsing that never follows a symlink out of the volume."""

from __future__ import annotations

import os
import stat

from fermi_jupyter.registry.storage import (
    Reader,
    cleanup_partial,
    estimate_space,
    list_dir,
    restore,
    snapshot,
    sweep,
)

from ..support.storage import leftovers, settled
from ..support.trees import make_tree


def test_space_estimate(layout, volume):
    src = volume / "d"
    make_tree(src, 20, 1000)
    os.symlink("/usr", src / "usr")  # never followed: not counted
    e = estimate_space(layout.root, src)
    assert (e.source, e.files, e.complete) == (20_000, 20, True)
    assert e.fits and e.free > 0
    huge = e.free + 10**12
    assert not estimate_space(layout.root, src, savings=0).__class__(e.free, huge, 1, True, 0).fits
    # what the previous version already stored is not needed again
    shrunk = estimate_space(layout.root, src, savings=15_000)
    assert shrunk.needed == 5_000 + 20 * 160
    message = e.__class__(100, 10**9, 10, False, 0).message()
    assert "at least" in message and "free" in message and "ignore_space_warning" in message


def test_a_walk_cut_short_is_a_lower_bound(layout, volume):
    src = volume / "d"
    make_tree(src, 300, 10, dirs=30)
    e = estimate_space(layout.root, src, budget=0.0)
    assert not e.complete and e.source <= 3000


def test_sweep_gives_back_leftovers_but_not_work_in_progress(layout, volume):
    src = volume / "d"
    make_tree(src, 30, 500)
    snapshot(layout, src, "ds-a", 1)
    # leftovers of two interrupted snapshots: one still being worked on, one abandoned
    for n in (2, 3):
        partial = layout.partial_dir("ds-a", n)
        partial.mkdir()
        (partial / "half.bin").write_bytes(b"x" * 1000)
        tmp = layout.manifest_path("ds-a", n).with_suffix(".tsv.tmp")
        tmp.write_text("#fermi-manifest v1\n")
    orphan = layout.objects_dir / "ab" / ("ab" + "0" * 62)
    orphan.write_bytes(b"o" * 700)  # an object no version links (a crash between two steps)
    (layout.tmp_dir / "stale.tmp").write_bytes(b"s" * 300)
    # everything is younger than an hour: the sweep leaves it all alone
    young = sweep(layout, active=set(), min_age=3600)
    assert (young.objects, young.leftovers) == (0, 0) and orphan.exists()
    report = sweep(layout, active={("ds-a", 2)}, min_age=0)
    assert report.objects == 1 and report.object_bytes == 700
    assert report.leftovers >= 2 and report.bytes >= 1000
    assert layout.partial_dir("ds-a", 2).exists()  # still being built: kept
    assert not layout.partial_dir("ds-a", 3).exists()
    assert not orphan.exists() and not (layout.tmp_dir / "stale.tmp").exists()
    assert layout.version_dir("ds-a", 1).exists()  # in use: untouched
    cleanup_partial(layout, "ds-a", 2)
    assert leftovers(settled(layout)) == []


def test_restore_as_the_volume_owner(layout, volume):
    src = volume / "d"
    make_tree(src, 10, 100)
    os.chmod(src / "part-001" / "sample-000001.bin", 0o4755)  # set-uid: never restored
    r = snapshot(layout, src, "ds-a", 1)
    os.chown(volume, 12345, 12345)
    dest = volume / "restored" / "here"
    restore(layout.version_dir("ds-a", 1), r.manifest_path, dest, read_as=Reader.of(volume))
    for p in [volume / "restored", dest, *dest.rglob("*")]:
        assert (p.stat().st_uid, p.stat().st_gid) == (12345, 12345), p
    mode = stat.S_IMODE((dest / "part-001" / "sample-000001.bin").stat().st_mode)
    assert mode == 0o755


def test_browsing_never_follows_a_symlink_out(volume, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret-image.png").write_text("s")
    (volume / "data").mkdir()
    (volume / "data" / "image-1.png").write_text("p")
    os.symlink(outside, volume / "data" / "link")
    found, _cursor, _trunc = list_dir(volume, "", q="image", limit=50)
    assert [e.path for e in found] == ["data/image-1.png"]
    page, _c, _t = list_dir(volume, "data")
    assert {e.name: e.type for e in page} == {"image-1.png": "file", "link": "symlink"}
