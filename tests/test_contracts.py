"""Issue 16, "Contracts that broke": every public random_state accepts None, an int, a
SeedSequence (any entropy) or a Generator; subpackages load on attribute access; a progress
line never prints a time left that cannot be right."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from causalsynth.errors import SpecError
from causalsynth.progress import Progress, set_heartbeat


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def beat(monkeypatch):
    monkeypatch.delenv("CAUSALSYNTH_PROGRESS", raising=False)
    previous = set_heartbeat(15, tag="simulate")
    yield
    set_heartbeat(previous[0], tag=previous[1])


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
