"""One place where user-facing ``random_state`` values become seed sequences.

Every public entry point accepts ``random_state: int | numpy.random.Generator |
numpy.random.SeedSequence | None``.  It is turned into a :class:`numpy.random.SeedSequence`
here; independent streams are obtained with :meth:`SeedSequence.spawn`, so results do not
depend on execution order or on how work is split between processes.
"""
from __future__ import annotations

from typing import Union

import numpy as np

from .errors import SpecError

RandomState = Union[None, int, np.integer, np.random.Generator, np.random.SeedSequence]

__all__ = ["RandomState", "as_seed_sequence", "as_generator", "spawn", "seed_int", "seed_parts", "seed_key",
           "child_seed"]


def as_seed_sequence(random_state: RandomState) -> np.random.SeedSequence:
    """Return a SeedSequence for ``random_state``.

    ``None`` draws fresh entropy from the operating system; an integer is used as entropy;
    a Generator contributes 128 bits drawn from it (so it advances); a SeedSequence is
    returned unchanged.
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        entropy = random_state.integers(0, 2**63 - 1, size=2, dtype=np.int64)
        return np.random.SeedSequence([int(x) for x in entropy])
    if isinstance(random_state, (bool, np.bool_)):
        raise SpecError(f"random_state must be an int, a numpy Generator, a SeedSequence or None; "
                        f"got {random_state!r}")
    if isinstance(random_state, (int, np.integer)):
        if int(random_state) < 0:
            raise SpecError(f"random_state must be a non-negative integer; got {random_state}; "
                            "pass a seed such as 0 or 12345")
        return np.random.SeedSequence(int(random_state))
    raise SpecError(
        "random_state must be an int, a numpy.random.Generator, a numpy.random.SeedSequence "
        f"or None; got {type(random_state).__name__} {random_state!r}"
    )


def _entropy(ss: np.random.SeedSequence):
    """The entropy as plain Python: an int, or a list of ints (a SeedSequence may hold an int,
    a list, a tuple or an array)."""
    e = ss.entropy
    if isinstance(e, (int, np.integer)):
        return int(e)
    return [int(x) for x in np.asarray(e).ravel()]


def seed_parts(random_state: RandomState) -> tuple:
    """``(entropy, spawn_key)`` of ``random_state``'s seed sequence as JSON-ready values: an int
    or a list of ints, and a list of ints."""
    ss = as_seed_sequence(random_state)
    return _entropy(ss), [int(k) for k in ss.spawn_key]


def seed_key(random_state: RandomState) -> tuple:
    """A hashable key that is equal for seed sequences that produce the same streams:
    ``(entropy, spawn_key, pool_size)`` with lists made tuples (usable in dicts and sets)."""
    ss = as_seed_sequence(random_state)
    e = _entropy(ss)
    return (e if isinstance(e, int) else tuple(e)), tuple(int(k) for k in ss.spawn_key), int(ss.pool_size)


def child_seed(random_state: RandomState, *key: int) -> np.random.SeedSequence:
    """The child stream ``spawn_key + key`` of ``random_state`` (a keyed, order-free spawn)."""
    ss = as_seed_sequence(random_state)
    return np.random.SeedSequence(_entropy(ss), spawn_key=(*ss.spawn_key, *(int(k) for k in key)),
                                  pool_size=ss.pool_size)


def as_generator(random_state: RandomState) -> np.random.Generator:
    """Return a Generator (a Generator passed in is returned as is, so it is shared)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(as_seed_sequence(random_state))


def spawn(random_state: RandomState, n: int) -> list[np.random.SeedSequence]:
    """Spawn ``n`` independent child seed sequences."""
    return as_seed_sequence(random_state).spawn(n)


def seed_int(seed: np.random.SeedSequence) -> int:
    """A 31-bit integer derived from ``seed`` for libraries that only take integers."""
    return int(seed.generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)
