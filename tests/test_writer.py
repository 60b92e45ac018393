"""The one writer (causalsynth.report.writer): atomic, never half a file, never through a planted
link, never over an input; report stems are plain names; checkpoint temporaries are safe."""
from __future__ import annotations

import errno
import os
import stat

import pandas as pd
import pytest

from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import (
    CheckpointError,
    DataFileError,
    OutputDiskFullError,
    OutputError,
    OutputExistsError,
    SpecError,
)
from causalsynth.report import Section, write_report
from causalsynth.report.writer import (
    OutputPlan,
    check_stem,
    same_file,
    write_bytes,
    write_file,
    write_table,
)
from causalsynth import RunOptions
from causalsynth.simulate import simulate


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _half_then_full(fh):
    fh.write(b"a,b\n" + b"1,2\n" * 500)
    raise OSError(errno.ENOSPC, "No space left on device")


# ---------------------------------------------------------------------------- atomic writes
def test_full_disk_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(OutputDiskFullError) as info:
        write_file(target, _half_then_full, what="--out")
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert "disk is full" in str(info.value) and "--out" in str(info.value) and "\n" not in str(info.value)
    assert not target.exists() and _leftovers(tmp_path) == []


def test_full_disk_keeps_the_old_file_whole(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old,content\n1,2\n")
    with pytest.raises(OutputDiskFullError):
        write_file(target, _half_then_full)
    assert target.read_text() == "old,content\n1,2\n" and _leftovers(tmp_path) == []


def test_full_disk_in_pandas_to_csv_leaves_no_partial_table(tmp_path, monkeypatch):
    frame = pd.DataFrame({"x": range(2000), "y": range(2000)})
    original = pd.DataFrame.to_csv

    def to_csv(self, buf=None, *args, **kwargs):  # writes about half, then the disk is full
        original(self.iloc[: len(self) // 2], buf, *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    with pytest.raises(OutputDiskFullError):
        write_table(frame, tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


def test_an_exception_of_the_writer_cleans_up_and_propagates(tmp_path):
    def boom(fh):
        fh.write(b"partial")
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        write_file(tmp_path / "x.json", boom)
    assert list(tmp_path.iterdir()) == []


def test_table_round_trip_csv_gz_and_parquet_and_mode_follows_umask(tmp_path):
    frame = pd.DataFrame({"x": [1, 2, 3], "s": ["a", "b", "c"]})
    for name in ("t.csv", "t.csv.gz", "t.parquet"):
        path = write_table(frame, tmp_path / name)
        back = pd.read_parquet(path) if name.endswith("parquet") else pd.read_csv(path)
        pd.testing.assert_frame_equal(back, frame)
    old = os.umask(0o022)
    try:
        mode = stat.S_IMODE(write_bytes(tmp_path / "m.bin", b"x").stat().st_mode)
    finally:
        os.umask(old)
    assert mode == 0o644  # not mkstemp's 0600


def test_force_false_and_exclusive_never_replace(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("keep")
    with pytest.raises(OutputExistsError, match="force=True"):
        write_bytes(target, b"new", force=False)
    with pytest.raises(OutputExistsError):
        write_bytes(target, b"new", exclusive=True)
    assert target.read_text() == "keep" and _leftovers(tmp_path) == []
    write_bytes(tmp_path / "b.txt", b"fresh", exclusive=True)
    assert (tmp_path / "b.txt").read_bytes() == b"fresh"


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "r.txt").symlink_to(outside)
    write_bytes(folder / "r.txt", b"report")
    assert outside.read_bytes() == b"precious"
    assert not (folder / "r.txt").is_symlink() and (folder / "r.txt").read_bytes() == b"report"


def test_a_parent_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "f.csv").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_bytes(tmp_path / "f.csv" / "out.csv", b"x", what="--out")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_report(tmp_path / "f.csv", "t", [Section("s", "text")], {})
    assert (tmp_path / "f.csv").read_text() == "x"


def test_exclusive_without_hard_links_still_never_replaces(tmp_path, monkeypatch):
    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(os, "link", no_link)
    write_bytes(tmp_path / "p", b"one", exclusive=True)
    with pytest.raises(OutputExistsError):
        write_bytes(tmp_path / "p", b"two", exclusive=True)
    assert (tmp_path / "p").read_bytes() == b"one" and _leftovers(tmp_path) == []


def test_a_long_name_gets_a_temporary(tmp_path):
    name = "x" * 240 + ".csv"
    write_bytes(tmp_path / name, b"ok")
    assert (tmp_path / name).read_bytes() == b"ok"


# ---------------------------------------------------------------------------- the plan
def test_plan_refuses_an_input_through_symlink_and_hard_link(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,y\n1,2\n")
    (tmp_path / "soft.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    for alias in ("data.csv", "soft.csv", "hard.csv", "sub/../data.csv"):
        plan = OutputPlan(force=True)
        plan.input(data, "DATA")
        plan.file(tmp_path / alias, "--out")
        with pytest.raises(OutputError, match="is the input DATA"):
            plan.check()
    assert same_file(tmp_path / "hard.csv", data) and not same_file(tmp_path / "new.csv", data)
    assert data.read_text() == "a,y\n1,2\n"


def test_plan_refuses_two_outputs_on_one_file_and_an_existing_one_without_force(tmp_path):
    plan = OutputPlan()
    plan.file(tmp_path / "s.csv", "--out")
    plan.file(tmp_path / "s.csv", "--truth-out")
    with pytest.raises(OutputError, match="--out and --truth-out name the same file"):
        plan.check()
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "report.html").write_text("old")
    plan = OutputPlan()
    plan.folder(tmp_path / "r", "--out", names=("report.md", "report.html"))
    with pytest.raises(OutputExistsError, match="--force"):
        plan.check()
    plan.force = True
    plan.check()


# ---------------------------------------------------------------------------- report stems
@pytest.mark.parametrize("stem", ["../../x", "a/b", "/tmp/abs", "..", "", "a\\b"])
def test_report_stem_must_be_a_plain_name(tmp_path, stem):
    out = tmp_path / "a" / "b"
    with pytest.raises(SpecError, match="plain file name"):
        write_report(out, "t", [Section("s", "text")], {}, stem=stem)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert check_stem("audit-2026") == "audit-2026"


def test_audit_write_report_stem_cannot_leave_the_folder(tmp_path, nhefs):
    from causalsynth.audit import audit
    from causalsynth.audit import AuditConfig
    result = audit(nhefs, AuditConfig(estimators=["or"], n_reps=1, utility_learners=["linear"]),
                   synthesizers=["bootstrap"], random_state=0)
    out = tmp_path / "a" / "b"
    with pytest.raises(SpecError, match="stem"):
        result.write_report(out, stem="../../x")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    paths = result.write_report(out, stem="audit")
    assert paths["html"].parent == out and _leftovers(out) == []


# ---------------------------------------------------------------------------- checkpoints
def test_a_link_planted_at_the_old_checkpoint_temporary_is_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    ck = tmp_path / "ck"
    ck.mkdir()
    # the names 0.2 used for its temporaries: a fixed ".<name>.tmp" beside the target
    (ck / ".meta.json.tmp").symlink_to(outside)
    (ck / ".part-000-000-000-000000.parquet.tmp").symlink_to(outside)
    with pytest.raises(SpecError, match="not empty"):  # a folder holding foreign files is refused
        simulate(LinearLogisticDesign(), n=100, n_reps=2, estimators=("or",), random_state=0,
                 run=RunOptions(checkpoint=ck))
    assert outside.read_bytes() == b"precious"
    # a link planted while the run writes (after meta.json): the temporaries never follow it
    ck2 = tmp_path / "ck2"
    from causalsynth.simulate.store import CheckpointStore
    store = CheckpointStore(ck2)
    with store.writing():
        store.open({"fingerprint": "f", "format": 2, "settings": {}}, resume=False)
        (ck2 / ".part-k.parquet.tmp").symlink_to(outside)
        store.write_part("k", pd.DataFrame({"world": ["w"], "scenario": ["s"], "n": [1], "rep": [0]}))
    assert outside.read_bytes() == b"precious"
    assert pd.read_parquet(ck2 / "part-k.parquet")["rep"].tolist() == [0]


def test_a_dangling_symlink_checkpoint_is_a_clear_error(tmp_path):
    link = tmp_path / "ck"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(CheckpointError) as info:
        simulate(LinearLogisticDesign(), n=100, n_reps=2, estimators=("or",), random_state=0,
                 run=RunOptions(checkpoint=link))
    text = str(info.value)
    assert "symbolic link" in text and "does not exist" in text and str(link) in text and "\n" not in text
    assert isinstance(info.value, DataFileError)
