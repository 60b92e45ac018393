"""Checkpoints cannot be mixed or corrupted silently: settings, lock, faults of the store."""
from __future__ import annotations

import errno
import json
import socket
import subprocess
import sys

import pandas as pd
import pytest

from causalsynth.datasets.designs import LinearLogisticDesign
from causalsynth.errors import (
    CausalSynthWarning,
    CheckpointCorruptError,
    CheckpointError,
    CheckpointLockedError,
    CheckpointMismatchError,
    DiskFullError,
)
from causalsynth import RunOptions
from causalsynth.simulate import Simulation, SimulationOptions, load_result, simulate
from causalsynth.synth.hybrid import HybridSynthesizer

ESTIMATORS = ("or", "aipw")


def _run(ck=None, design=None, *, resume=False, batch_size=2, level=0.95, **kw):
    settings = {"n": 100, "n_reps": 6, "estimators": ESTIMATORS, "random_state": 0, **kw}
    return simulate(design or LinearLogisticDesign(), **settings,
                    options=SimulationOptions(batch_size=batch_size, level=level),
                    run=RunOptions(checkpoint=ck, resume=resume))


def _strip(frame):
    return frame.drop(columns=[c for c in frame.columns if c.startswith("seconds")])


def _parts(ck):
    return sorted(ck.glob("part-*.parquet"))


def _refused(ck, **kw) -> CheckpointMismatchError:
    with pytest.raises(CheckpointMismatchError) as info:
        _run(ck, resume=True, **kw)
    assert "\n" not in str(info.value)  # the command line prints it as one line
    assert "use another folder or the same settings" in str(info.value)
    return info.value


# ------------------------------------------------------------------ settings that decide the rows
def test_resume_with_other_n_reps_refused(tmp_path):
    _run(tmp_path / "c", n_reps=6)
    exc = _refused(tmp_path / "c", n_reps=3)
    assert "written with n_reps=6" in str(exc) and "this run has n_reps=3" in str(exc)
    assert "n_reps" in [name for name, _, _ in exc.differences]
    assert len(load_result(tmp_path / "c")) == 6 * len(ESTIMATORS)  # nothing was added


def test_resume_with_other_learner_n_reps_refused(tmp_path):
    _run(tmp_path / "c", learners={"glm": {"propensity": "logistic", "n_reps": 4}})
    exc = _refused(tmp_path / "c", learners={"glm": {"propensity": "logistic", "n_reps": 3}})
    assert [name for name, _, _ in exc.differences] == ["learner 'glm'"]
    assert "n_reps=4)" in str(exc) and "n_reps=3)" in str(exc)


def test_resume_with_other_design_field_refused(tmp_path):
    _run(tmp_path / "c", LinearLogisticDesign(effect=1))
    exc = _refused(tmp_path / "c", design=LinearLogisticDesign(effect=5))
    assert [name for name, _, _ in exc.differences] == ["world 'given'"]
    assert "written with world 'given' = LinearLogisticDesign(n_features=5, effect=1," in str(exc)
    assert "this run has world 'given' = LinearLogisticDesign(n_features=5, effect=5," in str(exc)


@pytest.mark.filterwarnings("ignore:the only world simulated")
def test_resume_with_other_synthesizer_refused(tmp_path):
    real = LinearLogisticDesign().sample(300, random_state=1).data
    fitted = HybridSynthesizer(n_reference=5000, random_state=0).fit(real)
    _run(tmp_path / "c", fitted, n_reps=2)
    other = HybridSynthesizer(ate=10, n_reference=5000, random_state=0).fit(real)
    exc = _refused(tmp_path / "c", design=other, n_reps=2)
    assert "world 'given'" in str(exc) and "ate=10" in str(exc)
    # the same parameters fitted to other data: same description, other fitted state
    refit = HybridSynthesizer(n_reference=5000, random_state=0).fit(
        LinearLogisticDesign().sample(300, random_state=2).data)
    assert "fitted state" in str(_refused(tmp_path / "c", design=refit, n_reps=2))
    # the same fit again resumes (a finished checkpoint: everything is reused)
    again = HybridSynthesizer(n_reference=5000, random_state=0).fit(real)
    assert _run(tmp_path / "c", again, n_reps=2, resume=True).n_resumed == 2


def test_resume_with_other_seed_refused(tmp_path):
    _run(tmp_path / "c", random_state=0)
    exc = _refused(tmp_path / "c", random_state=1)
    assert "written with seed 0" in str(exc) and "this run has seed 1" in str(exc)
    assert "random_state=0" in str(exc)  # how to resume it


def test_resume_with_other_level_refused(tmp_path):
    _run(tmp_path / "c")
    exc = _refused(tmp_path / "c", level=0.5)
    assert "level=0.95" in str(exc) and "level=0.5" in str(exc)


def test_resume_with_same_settings_gives_the_uninterrupted_replicates(tmp_path):
    ck = tmp_path / "c"
    _run(ck, batch_size=2)
    assert len(_parts(ck)) == 3
    _parts(ck)[1].unlink()  # an interrupted run: one batch never finished
    resumed = _run(ck, resume=True, batch_size=5)  # batch_size is not a setting of the rows
    fresh = _run(batch_size=1)
    assert resumed.n_resumed == 4
    pd.testing.assert_frame_equal(_strip(resumed.replicates), _strip(fresh.replicates))
    assert load_result(ck).groupby(["rep", "estimator"]).size().max() == 1


def test_checkpoint_of_an_older_format_refused(tmp_path):
    ck = tmp_path / "c"
    _run(ck)
    meta = json.loads((ck / "meta.json").read_text())
    del meta["settings"], meta["format"]
    (ck / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointMismatchError, match="older causalsynth"):
        _run(ck, resume=True)


# ------------------------------------------------------------------ one writer
def test_second_writer_refused_while_the_first_holds_the_lock(tmp_path):
    ck = tmp_path / "c"
    _run(ck)
    _parts(ck)[-1].unlink()
    before = sorted(p.name for p in _parts(ck))
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:  # the first writer: a live process holding the lock
        (ck / "writer.lock").write_text(json.dumps({"pid": writer.pid, "host": socket.gethostname()}))
        with pytest.raises(CheckpointLockedError) as info:
            _run(ck, resume=True)
        assert str(ck / "writer.lock") in str(info.value) and f"process {writer.pid}" in str(info.value)
        assert sorted(p.name for p in _parts(ck)) == before  # it wrote nothing
        assert (ck / "writer.lock").exists()  # nor took the lock away
    finally:
        writer.kill()
        writer.wait()
    # the writer died without removing its lock: stale, taken over with a warning
    with pytest.warns(CausalSynthWarning, match="stale lock"):
        resumed = _run(ck, resume=True)
    assert resumed.replicates.groupby(["rep", "estimator"]).size().max() == 1
    assert len(resumed.replicates) == 6 * len(ESTIMATORS)
    assert not (ck / "writer.lock").exists()


class _Reentrant:
    """A design whose first draw starts a second run on the same checkpoint."""

    population_ate_ = 1.0

    def __init__(self, ck, seen):
        self.ck, self.seen = ck, seen

    def sample(self, n, random_state=None):
        if not self.seen:
            try:
                Simulation(LinearLogisticDesign(), n=100, n_reps=2, random_state=0).run(RunOptions(checkpoint=self.ck))
            except CheckpointLockedError as exc:
                self.seen.append(exc)
        return LinearLogisticDesign().sample(n, random_state=random_state)


def test_second_run_in_the_same_process_refused(tmp_path):
    seen = []
    res = Simulation(_Reentrant(str(tmp_path / "c"), seen), n=100, n_reps=2, estimators=ESTIMATORS,
                     random_state=0).run(RunOptions(checkpoint=tmp_path / "c"))
    assert len(seen) == 1 and "another run in this process" in str(seen[0])
    assert len(res.replicates) == 2 * len(ESTIMATORS)
    assert not (tmp_path / "c" / "writer.lock").exists()


def test_two_parts_holding_one_replicate_refused(tmp_path):
    ck = tmp_path / "c"
    _run(ck)
    first = _parts(ck)[0]
    copy = ck / "part-999-000-000-000000.parquet"
    copy.write_bytes(first.read_bytes())
    for read in (lambda: _run(ck, resume=True), lambda: load_result(ck)):
        with pytest.raises(CheckpointCorruptError, match="both hold the replicate") as info:
            read()
        assert str(first) in str(info.value) and str(copy) in str(info.value)


# ------------------------------------------------------------------ faults of the store
def test_truncated_meta_json_refused(tmp_path):
    ck = tmp_path / "c"
    _run(ck)
    text = (ck / "meta.json").read_text()
    (ck / "meta.json").write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointCorruptError, match="not valid JSON") as info:
        _run(ck, resume=True)
    assert str(ck / "meta.json") in str(info.value) and "restore that file" in str(info.value)


@pytest.mark.parametrize("column, value", [("scenario", "elsewhere"), ("n", 5000), ("world", "mars"),
                                           ("rep", 40)])
def test_foreign_part_refused(tmp_path, column, value):
    ck = tmp_path / "c"
    _run(ck)
    first = _parts(ck)[0]
    rows = pd.read_parquet(first)
    rows = rows[rows["rep"] == rows["rep"].min()]  # one replicate, moved out of the grid
    foreign = ck / "part-900-000-000-000000.parquet"
    rows.assign(**{column: value}).to_parquet(foreign, index=False)
    with pytest.raises(CheckpointCorruptError, match="not written by this simulation") as info:
        _run(ck, resume=True)
    assert str(foreign) in str(info.value)


def test_unreadable_part_refused(tmp_path):
    ck = tmp_path / "c"
    _run(ck)
    _parts(ck)[0].write_bytes(b"PAR1 not really")
    with pytest.raises(CheckpointCorruptError, match="cannot be read") as info:
        _run(ck, resume=True)
    assert str(_parts(ck)[0]) in str(info.value) and "delete that file and resume" in str(info.value)


def test_checkpoint_path_that_is_a_file_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(CheckpointError, match="is a file, not a folder"):
        _run(path)
    with pytest.raises(CheckpointError, match="part of that path is a file"):
        _run(path / "below")


def _failing_writer(monkeypatch, error, after=1):
    """Make the parquet writer raise ``error`` after ``after`` successful writes."""
    original, calls = pd.DataFrame.to_parquet, []

    def to_parquet(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > after:
            raise error
        return original(self, path, *args, **kwargs)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)


def test_full_disk_is_a_typed_error_and_the_finished_parts_are_safe(tmp_path, monkeypatch):
    ck = tmp_path / "c"
    with monkeypatch.context() as m:
        _failing_writer(m, OSError(errno.ENOSPC, "No space left on device"))
        with pytest.raises(DiskFullError) as info:
            _run(ck)
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    assert "is full" in str(info.value) and "2 replicate task(s) finished before are safe" in str(info.value)
    assert len(_parts(ck)) == 1 and not list(ck.glob(".*.tmp")) and not (ck / "writer.lock").exists()
    resumed = _run(ck, resume=True)
    assert resumed.n_resumed == 2
    pd.testing.assert_frame_equal(_strip(resumed.replicates), _strip(_run().replicates))


def test_permission_error_is_a_typed_error(tmp_path, monkeypatch):
    _failing_writer(monkeypatch, PermissionError(errno.EACCES, "Permission denied"), after=0)
    with pytest.raises(CheckpointError, match="permission denied") as info:
        _run(tmp_path / "c")
    assert "part-000-000-000-000000.parquet" in str(info.value)
