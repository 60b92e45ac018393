"""Fully generative (joint) synthesizers: one table generator fitted to the whole (W, A, Y) table.

This is how synthetic data is usually released, and the baseline the ATE-preservation audit
compares the hybrid synthesizer with: a generator of the joint law learns the treatment
contrast only through its likelihood of the full table, and may distort it.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._random import RandomState, as_seed_sequence
from ..data import CausalData
from ..errors import NotFittedError, SpecError
from .covariates import make_covariate_generator

__all__ = ["JointSynthesizer"]


class JointSynthesizer:
    """A table generator fitted to the full (W, A, Y) table (the usual way to release data).

    Parameters
    ----------
    generator : ``"copula"``, ``"ctgan"``, ``"tvae"``, ``"bootstrap"`` or a generator object
        (see :func:`~causalsynth.synth.covariates.make_covariate_generator`).
    generator_options : keyword arguments of a named generator (e.g. ``{"epochs": 300}``).
    random_state : seeds the generator's fit.

    The treatment is given to the generator as a 0/1 integer column and a binary outcome as
    well; draws keep the real roles (``constant="keep"``: a synthetic column may be constant).
    """

    def __init__(self, *, generator: Any = "copula", generator_options: dict | None = None,
                 random_state: RandomState = None) -> None:
        self.generator = generator
        self.generator_options = generator_options
        self.random_state = random_state

    def fit(self, data: CausalData) -> JointSynthesizer:
        if not isinstance(data, CausalData):
            raise SpecError(f"fit needs a CausalData; got {type(data).__name__}")
        frame = data.frame
        if data.outcome_type == "binary":
            frame[data.outcome] = frame[data.outcome].astype(np.int64)
        gen = make_covariate_generator(self.generator, **(self.generator_options or {}))
        gen.fit(frame, random_state=as_seed_sequence(self.random_state))
        self.generator_ = gen
        self.template_ = data
        return self

    def sample(self, n: int, *, random_state: RandomState = None) -> CausalData:
        """Draw ``n`` rows as a CausalData; DataError when a draw leaves an arm (nearly) empty."""
        if not hasattr(self, "generator_"):
            raise NotFittedError("this JointSynthesizer is not fitted yet: call fit(data) first")
        t = self.template_
        frame = self.generator_.sample(int(n), random_state=random_state)
        frame = pd.DataFrame(frame).reset_index(drop=True)
        frame[t.treatment] = np.rint(frame[t.treatment].to_numpy(dtype=float)).clip(0, 1).astype(np.int64)
        if t.outcome_type == "binary":
            frame[t.outcome] = np.rint(frame[t.outcome].to_numpy(dtype=float)).clip(0, 1)
        return CausalData(frame, treatment=t.treatment, outcome=t.outcome,
                          covariates=list(t.covariates), categorical=list(t.categorical),
                          constant="keep", _derived=True)
