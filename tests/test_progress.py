"""Progress when stderr is not a terminal: heartbeat lines, on a fake clock or a tiny interval."""
from __future__ import annotations

import time

import pytest

from causalsynth.progress import (
    Progress,
    format_seconds,
    heartbeat_seconds,
    progress,
    set_heartbeat,
    step,
)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def beat(monkeypatch):
    """A heartbeat of 15 s with the tag 'simulate', restored afterwards."""
    monkeypatch.delenv("CAUSALSYNTH_PROGRESS", raising=False)
    previous = set_heartbeat(15, tag="simulate")
    yield
    set_heartbeat(previous[0], tag=previous[1])


def test_silent_by_default_when_not_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("CAUSALSYNTH_HEARTBEAT", raising=False)
    assert heartbeat_seconds() is None
    assert list(progress(range(3), desc="x")) == [0, 1, 2]
    with step("fitting"):
        pass
    assert capsys.readouterr().err == ""


def test_loop_heartbeat_on_a_fake_clock(capsys, beat):
    clock = FakeClock()
    seen = []
    for i in progress(range(96), desc="replicates", clock=clock):
        clock.now += 61 / 37 if i < 37 else 0.1  # 37 replicates in 61 s, then fast
        seen.append(i)
    err = capsys.readouterr().err.splitlines()
    assert seen == list(range(96))
    assert err[0].startswith("[simulate] 10/96 replicates, 16 s elapsed, about ")
    assert [line.split("/")[0] for line in err[:3]] == ["[simulate] 10", "[simulate] 20", "[simulate] 30"]
    assert err[-1].startswith("[simulate] 96/96 replicates done in ")
    # at most one line per 15 s of the clock
    assert len(err) <= 61 / 15 + 2


def test_batch_progress_eta(capsys, beat):
    clock = FakeClock()
    with Progress(96, "replicates", clock=clock, ticker=False) as bar:
        clock.now = 61.0
        bar.update(37)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "[simulate] 37/96 replicates, 61 s elapsed, about 97 s left"
    assert err[1] == "[simulate] 37/96 replicates done in 61 s"


def test_ticker_thread_beats_while_nothing_finishes(capsys, monkeypatch):
    monkeypatch.delenv("CAUSALSYNTH_PROGRESS", raising=False)
    previous = set_heartbeat(0.05, tag="audit")
    try:
        with Progress(4, "fits") as bar:
            time.sleep(0.3)  # one long unit of work: the thread keeps talking
            bar.update(4)
        with step("fitting world flexible"):
            time.sleep(0.2)
    finally:
        set_heartbeat(previous[0], tag=previous[1])
    err = capsys.readouterr().err.splitlines()
    assert sum(line.startswith("[audit] 0/4 fits,") for line in err) >= 2
    assert "[audit] fitting world flexible ..." in err
    assert any(line.startswith("[audit] fitting world flexible: ") and "elapsed" in line for line in err)
    assert err[-1].startswith("[audit] fitting world flexible: done in ")


def test_environment_and_switches(monkeypatch, capsys):
    monkeypatch.delenv("CAUSALSYNTH_PROGRESS", raising=False)  # the test suite's conftest sets it
    monkeypatch.setenv("CAUSALSYNTH_HEARTBEAT", "30")
    assert heartbeat_seconds() == 30.0
    monkeypatch.setenv("CAUSALSYNTH_PROGRESS", "0")
    assert heartbeat_seconds() is None
    monkeypatch.delenv("CAUSALSYNTH_PROGRESS")
    monkeypatch.setenv("CAUSALSYNTH_HEARTBEAT", "0")
    assert heartbeat_seconds() is None
    clock = FakeClock()
    previous = set_heartbeat(1)
    try:
        for _ in progress(range(5), desc="x", show=False, clock=clock):  # show=False: always quiet
            clock.now += 10
    finally:
        set_heartbeat(*previous[:1], tag=previous[1])
    assert capsys.readouterr().err == ""
    assert [format_seconds(s) for s in (61, 150, 7200)] == ["61 s", "2.5 min", "2.0 h"]


def test_time_left_from_the_work_done_when_units_differ_in_cost(capsys, beat):
    clock = FakeClock()
    with Progress(100, "replicates", clock=clock, ticker=False, work=100.0) as bar:
        clock.now = 30.0
        bar.update(10, work=50.0)  # 10 expensive replicates: half the work in 30 s
    line = capsys.readouterr().err.splitlines()[0]
    assert line == "[simulate] 10/100 replicates, 30 s elapsed, about 30 s left"


def test_simulation_reports_its_replicates(capsys, beat):
    from causalsynth.datasets.designs import LinearLogisticDesign
    from causalsynth import RunOptions
    from causalsynth.simulate import Simulation
    set_heartbeat(0.01, tag="simulate")
    sim = Simulation(LinearLogisticDesign(n_features=3), n=100, n_reps=4, random_state=0)
    sim.plan(pilot_reps=1)
    sim.run(RunOptions(n_jobs=1))
    err = capsys.readouterr().err.splitlines()
    assert err and err[-1].startswith("[simulate] 3/3 replicates done in ")  # one replicate ran in the pilot


# --- the time left in progress lines -------------------------------------------------------

def test_no_time_left_while_the_first_of_two_refits_runs_or_after_one(capsys, beat):
    """The demo's refits: 2 generators of ~14 min. The old line said 'about X left' equal to
    the time elapsed, on every line while the second refit ran."""
    clock = FakeClock()
    with Progress(2, "generator refits", clock=clock, ticker=False) as bar:
        for t in (300.0, 600.0):
            clock.now = t
            bar._maybe_beat(force=True)
        clock.now = 828.0
        bar.update(1)  # one unit says nothing about the next
        for t in (900.0, 1200.0, 1500.0):
            clock.now = t
            bar._maybe_beat(force=True)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 6
    assert not any("left" in line for line in lines), lines


def test_time_left_is_measured_up_to_the_last_finished_unit(capsys, beat):
    clock = FakeClock()
    with Progress(10, "replicates", clock=clock, ticker=False) as bar:
        clock.now = 40.0
        bar.update(4)  # 4 of 10 in 40 s: 60 s left at that moment
        assert bar.time_left() == pytest.approx(60.0)
        clock.now = 70.0  # 30 s on, nothing finished: 30 s left, not 70/4*6 = 105 s
        assert bar.time_left() == pytest.approx(30.0)
        assert bar.line().endswith("about 30 s left")
        clock.now = 130.0  # behind its own rate: no estimate can be right, none is printed
        assert bar.time_left() is None
        assert "left" not in bar.line()


def test_no_time_left_without_a_known_total(capsys, beat):
    clock = FakeClock()
    with Progress(None, "draws", clock=clock, ticker=False) as bar:
        clock.now = 30.0
        bar.update(5)
        assert bar.time_left() is None
        assert "left" not in bar.line()
