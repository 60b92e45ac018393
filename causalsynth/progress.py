"""Progress of long work: a tqdm bar on a terminal, heartbeat lines when stderr is not one.

Library calls stay quiet unless asked: a bar is shown when stderr is a terminal, and when it
is not (a log file, a CI job, a pipe) nothing is printed unless a **heartbeat** is enabled,
either by :func:`set_heartbeat` (the ``causalsynth`` command does this) or by the environment
variable ``CAUSALSYNTH_HEARTBEAT=<seconds>``. With a heartbeat, long loops print a line on
stderr at least every that many seconds::

    [simulate] 37/96 replicates, 61 s elapsed, about 98 s left

and single long calls wrapped in :func:`step` print a line before, while they run and after.
``CAUSALSYNTH_PROGRESS=0`` turns bars and heartbeats off.

* :func:`progress` -- iterate with progress;
* :class:`Progress` -- the same for work that finishes in batches (``update(n)``);
* :func:`step` -- a context manager around one long call.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

__all__ = ["progress", "Progress", "step", "set_heartbeat", "heartbeat_seconds", "format_seconds",
           "RunOptions", "as_run_options"]

_STATE: dict = {"seconds": None, "tag": "causalsynth"}


def _progress_off() -> bool:
    return os.environ.get("CAUSALSYNTH_PROGRESS", "").lower() in ("0", "false", "no")


def _enabled(show: bool | None) -> bool:
    if show is not None:
        return show
    if _progress_off():
        return False
    return sys.stderr.isatty()


def set_heartbeat(seconds: float | None, *, tag: str | None = None) -> tuple[float | None, str]:
    """Enable heartbeat lines every ``seconds`` (None or 0: back to the environment's
    ``CAUSALSYNTH_HEARTBEAT``, default off); ``tag`` starts every line (``[tag] ...``).

    Returns the previous (seconds, tag), so a caller can restore it.
    """
    previous = (_STATE["seconds"], _STATE["tag"])
    if seconds is not None and not seconds > 0:
        seconds = None
    _STATE["seconds"] = None if seconds is None else float(seconds)
    if tag is not None:
        _STATE["tag"] = str(tag)
    return previous


def heartbeat_seconds() -> float | None:
    """The heartbeat interval in force when stderr is not a terminal, or None (off)."""
    if _progress_off():
        return None
    if _STATE["seconds"] is not None:
        return _STATE["seconds"]
    raw = os.environ.get("CAUSALSYNTH_HEARTBEAT", "").strip()
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        return None
    return value if value > 0 else None


def _beating(show: bool | None) -> float | None:
    """The interval when heartbeat lines replace the bar: no bar, not switched off, enabled."""
    if show is False or _enabled(show):
        return None
    return heartbeat_seconds()


def format_seconds(seconds: float) -> str:
    """'61 s' below 100 s, '12.3 min' below 100 min, else '2.5 h'."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 6000:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Progress:
    """Progress of ``total`` units of work that finish one or several at a time.

    ``update(n)`` after ``n`` units finished; ``close()`` (or leave the ``with`` block) at the
    end. A tqdm bar when ``show`` (default: stderr is a terminal); otherwise, with a heartbeat
    enabled, a line at least every interval: from ``update`` and, when ``ticker`` (default),
    from a background thread while no unit finishes. Units of unequal cost: give ``work``, the
    total expected cost (any unit, e.g. pilot seconds), and ``update(n, work=cost)``; the time
    left is then estimated from the work done, not the count. When that work is in seconds of
    one core (``work_seconds=True``: pilot timings), the line also shows the measured speed-up,
    the core-seconds of work finished per second of wall time: the time left is the work left
    divided by that measured rate, never by the number of workers (two workers on a shared
    machine may give 1.2x, not 2x), measured over the later half of the time since the first
    finished update (the start-up of worker processes is not the speed of the work, and the
    speed follows a machine whose load changes); :meth:`expect_left` corrects the work
    left as units are measured. ``clock`` replaces ``time.monotonic`` (tests).
    """

    def __init__(self, total: int | None, desc: str = "", *, show: bool | None = None,
                 clock: Callable[[], float] | None = None, ticker: bool = True,
                 every: float | None = None, work: float | None = None, work_seconds: bool = False) -> None:
        self.total, self.desc, self.done = total, desc, 0
        self.work_seconds = bool(work_seconds and work)
        self.work, self.work_done = (float(work) if work else None), 0.0
        self._clock = clock or time.monotonic
        self._bar = None
        self._every = every if every is not None else _beating(show)
        self._tag = _STATE["tag"]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._beats = 0
        if _enabled(show):
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm is a dependency
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False)
            self._every = None
        self._start = self._last = self._t_done = self._clock()
        self._first = None  # (time, work done) at the first finished update
        self._history: list = []  # (time, work done) at the later updates, with work_seconds
        if self._every is not None and ticker:
            self._thread = threading.Thread(target=self._tick, name="causalsynth-heartbeat", daemon=True)
            self._thread.start()

    def line(self) -> str:
        """The heartbeat line now: '[tag] 37/96 replicates, 61 s elapsed, about 98 s left'."""
        now = self._clock()
        elapsed = now - self._start
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        text = f"[{self._tag}] {count} {self.desc}, {format_seconds(elapsed)} elapsed"
        left = self.time_left(now)
        if left is not None:
            text += f", about {format_seconds(left)} left"
            speed = self.speedup()
            if speed is not None:
                text += f" (running at {speed:.1f}x one core)"
        return text

    def expect_left(self, work: float) -> None:
        """Re-estimate the work left (same unit as ``work``): the expected total becomes the
        work done plus ``work`` (a caller that measures its units corrects its first guess)."""
        if self.work is not None:
            self.work = self.work_done + max(float(work), 0.0)

    def speedup(self) -> float | None:
        """Seconds of one core's work finished per second of wall time (``work_seconds``),
        between the first and the last finished update; None before two updates or without
        work in seconds."""
        return self._rate() if self.done >= 2 else None

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds left, or None when no estimate can be right.

        The rate is measured up to the moment the last units finished (``update``), not up
        to now: time spent on the unit in progress is not work done. None when the total is
        unknown, fewer than two units have finished (one unit says nothing of the others),
        everything is done, or the estimate has run out (the work is behind its own rate).
        """
        now = self._clock() if now is None else now
        if not self.total or self.done < 2 or self.done >= self.total:
            return None
        if self.work:
            fraction = self.work_done / self.work
        else:
            fraction = self.done / self.total
        if not 0 < fraction < 1:
            return None
        rate = self._rate()
        if rate is not None:  # work in seconds: what is left at the measured speed
            left = (self.work - self.work_done) / rate - (now - self._t_done)
            return left if left > 0 else None
        spent = self._t_done - self._start  # the time the finished work took
        if spent <= 0:
            return None
        left = spent / fraction * (1 - fraction) - (now - self._t_done)
        return left if left > 0 else None

    def _rate(self) -> float | None:
        """Work finished per second of wall time (``work_seconds``), measured over the later
        half of the time since the first finished update: the start-up before the first unit
        (worker processes starting, imports) is not the speed of the work, and a machine
        whose load changes (a neighbour's job ends) is followed. None before two updates."""
        if not self.work_seconds or self._first is None:
            return None
        t_first = self._first[0]
        if self._t_done <= t_first:
            return None
        since = self._t_done - (self._t_done - t_first) / 2
        # the last update at or before ``since`` (the history is in time order)
        t0, w0 = self._first
        for t, w in self._history:
            if t > since:
                break
            t0, w0 = t, w
        if self._t_done <= t0 or self.work_done <= w0:
            return None
        return (self.work_done - w0) / (self._t_done - t0)

    def _maybe_beat(self, *, force: bool = False) -> None:
        if self._every is None:
            return
        with self._lock:
            now = self._clock()
            if force or now - self._last >= self._every:
                self._last = now
                self._beats += 1
                _say(self.line())

    def _tick(self) -> None:
        while True:
            with self._lock:
                wait = max(self._every - (self._clock() - self._last), 0.01)
            if self._stop.wait(wait):
                return
            self._maybe_beat()

    def update(self, n: int = 1, *, work: float | None = None) -> None:
        self.done += n
        self.work_done += float(work) if work is not None else 0.0
        if n > 0:
            self._t_done = self._clock()
            if self._first is None:
                self._first = (self._t_done, self.work_done)
            elif self.work_seconds:
                self._history.append((self._t_done, self.work_done))
        if self._bar is not None:
            self._bar.update(n)
        self._maybe_beat()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._every is not None and self._beats:
            elapsed = self._clock() - self._start
            count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
            _say(f"[{self._tag}] {count} {self.desc} done in {format_seconds(elapsed)}")
            self._every = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(items: Iterable[T], *, desc: str = "", total: int | None = None,
             show: bool | None = None, clock: Callable[[], float] | None = None) -> Iterator[T]:
    """Iterate ``items`` with a tqdm bar on stderr when ``show`` (default: stderr is a terminal),
    or heartbeat lines when stderr is not a terminal and a heartbeat is enabled."""
    if not _enabled(show) and _beating(show) is None:
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total, desc, show=show, clock=clock) as bar:
        for item in items:
            yield item
            bar.update()


@contextmanager
def step(what: str, *, show: bool | None = None, clock: Callable[[], float] | None = None,
         every: float | None = None) -> Iterator[None]:
    """Around one long call: with a heartbeat (and no terminal), '[tag] what ...' before,
    '[tag] what: 30 s elapsed' every interval while it runs, '[tag] what: done in 42 s' after."""
    interval = every if every is not None else _beating(show)
    if interval is None:
        yield
        return
    clock = clock or time.monotonic
    tag, start, stop = _STATE["tag"], clock(), threading.Event()
    _say(f"[{tag}] {what} ...")

    def tick() -> None:
        while not stop.wait(interval):
            _say(f"[{tag}] {what}: {format_seconds(clock() - start)} elapsed")

    thread = threading.Thread(target=tick, name="causalsynth-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1.0)
    _say(f"[{tag}] {what}: done in {format_seconds(clock() - start)}")


# How long work runs ---------------------------------------------------------------------------

_BACKENDS = ("joblib", "dask")


class RunOptions:
    """How a long job runs: where its work goes and what it leaves behind.

    One object for the settings every long call shares (``simulate``, ``Simulation.run``,
    ``select_estimator``, the selection study, ``audit``), so a call's own parameters stay
    about the study and not about the machine::

        simulate(dgp, n_reps=500, run=RunOptions(n_jobs=2, checkpoint="runs/a"))

    n_jobs : worker processes (1: this process).
    backend : ``"joblib"`` (local processes) or ``"dask"`` (with ``scheduler``, an address such
        as ``"tcp://host:8786"``, or None for a local cluster).
    checkpoint : a folder where finished work is stored as it completes; None: nothing stored.
    resume : continue the run stored in ``checkpoint`` (its settings must match).
    progress : True/False shows/hides the bar; None: a bar on a terminal only.
    """

    __slots__ = ("n_jobs", "backend", "scheduler", "checkpoint", "resume", "progress")

    def __init__(self, *, n_jobs: int = 1, backend: str = "joblib", scheduler=None, checkpoint=None,
                 resume: bool = False, progress: bool | None = None) -> None:
        from .errors import Fix, SpecError
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise SpecError(f"RunOptions: n_jobs must be a positive whole number (or -1 for every core); "
                            f"got {n_jobs!r}")
        if backend not in _BACKENDS:
            raise SpecError(f"RunOptions: backend must be one of {_BACKENDS}; got {backend!r}")
        if scheduler is not None and backend != "dask":
            raise SpecError("RunOptions: scheduler is used by backend='dask' only; pass backend='dask' "
                            "or leave scheduler out")
        if not isinstance(resume, bool):
            raise SpecError(f"RunOptions: resume must be True or False; got {resume!r}")
        if resume and checkpoint is None:
            raise SpecError("RunOptions: {} needs a checkpoint folder", argument="resume", value=True,
                            fix=Fix("pass {}=FOLDER, the folder of the run to resume", "checkpoint"))
        if progress is not None and not isinstance(progress, bool):
            raise SpecError(f"RunOptions: progress must be True, False or None; got {progress!r}")
        for name, value in (("n_jobs", n_jobs), ("backend", backend), ("scheduler", scheduler),
                            ("checkpoint", checkpoint), ("resume", resume), ("progress", progress)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):  # frozen: a changed setting must not leak into a running job
        raise AttributeError("RunOptions is read-only; build a new one with replace(...)")

    def replace(self, **changes) -> "RunOptions":
        """A copy with ``changes`` applied (validated again)."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            from .errors import SpecError
            raise SpecError(f"RunOptions has no setting {unknown[0]!r}; settings: {', '.join(self.__slots__)}")
        fields.update(changes)
        return RunOptions(**fields)

    def __eq__(self, other) -> bool:
        return isinstance(other, RunOptions) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(str(getattr(self, k)) for k in self.__slots__))

    def __repr__(self) -> str:
        return "RunOptions(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def as_run_options(run) -> RunOptions:
    """``run`` as a :class:`RunOptions` (None: the defaults)."""
    if run is None:
        return RunOptions()
    if isinstance(run, RunOptions):
        return run
    from .errors import SpecError
    raise SpecError(f"run must be a RunOptions (causalsynth.RunOptions(n_jobs=..., checkpoint=...)); "
                    f"got {type(run).__name__}")
