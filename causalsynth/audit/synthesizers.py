"""The synthesizers an audit compares, by name: the hybrid and fully generative (joint) baselines.

A *joint* baseline (:class:`~causalsynth.synth.joint.JointSynthesizer`) fits one table
generator to the whole real table (W, A, Y), the way synthetic data is usually released. The
*hybrid* draws W from a covariate generator and A, Y from separately fitted nuisance models
(:class:`~causalsynth.synth.hybrid.HybridSynthesizer`).
"""
from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..data import CausalData
from ..errors import SpecError
from ..synth import require_deep
from ..synth.hybrid import HybridSynthesizer, SynthSettings
from ..synth.joint import JointSynthesizer

__all__ = ["SYNTHESIZERS", "DEFAULT_SYNTHESIZERS", "SynthSpec", "resolve_synthesizers", "draw_synthetic"]

#: Synthesizer names the audit knows, with what each one is.
SYNTHESIZERS: dict[str, str] = {
    "hybrid": "hybrid: Gaussian-copula covariates, A and Y from fitted nuisance models",
    "hybrid-bootstrap": "hybrid with resampled real covariate rows",
    "hybrid-ctgan": "hybrid with CTGAN covariates",
    "hybrid-tvae": "hybrid with TVAE covariates",
    "copula": "joint: Gaussian copula fitted to the whole (W, A, Y) table",
    "ctgan": "joint: CTGAN fitted to the whole (W, A, Y) table",
    "tvae": "joint: TVAE fitted to the whole (W, A, Y) table",
    "bootstrap": "joint: real (W, A, Y) rows resampled with replacement (a copy, no privacy)",
}
DEFAULT_SYNTHESIZERS = ("hybrid", "copula", "ctgan", "tvae", "bootstrap")
_DEEP = ("ctgan", "tvae")


@dataclass(frozen=True)
class SynthSpec:
    """One synthesizer of an audit: its label, family and covariate/table generator."""

    name: str
    kind: Literal["hybrid", "joint"]
    generator: str | None = None
    instance: Any = None  # a user's HybridSynthesizer, rebuilt with a fresh seed every repeat

    @property
    def needs_deep(self) -> bool:
        gen = self.generator if self.instance is None else self.instance.generator
        return isinstance(gen, str) and gen.strip().lower() in _DEEP


def _from_name(name: str, label: str | None) -> SynthSpec:
    key = name.strip().lower()
    if key not in SYNTHESIZERS:
        raise SpecError(f"unknown synthesizer {name!r}; valid names: {', '.join(SYNTHESIZERS)}. "
                        "You can also pass a HybridSynthesizer instance.")
    if key.startswith("hybrid"):
        return SynthSpec(label or key, "hybrid", key.split("-", 1)[1] if "-" in key else "copula")
    return SynthSpec(label or key, "joint", key)


def resolve_synthesizers(synthesizers: Any) -> list[SynthSpec]:
    """Turn names, HybridSynthesizer instances or a mapping label -> either into specs."""
    if isinstance(synthesizers, (str, HybridSynthesizer)):
        synthesizers = [synthesizers]
    items: list[tuple[str | None, Any]]
    if isinstance(synthesizers, Mapping):
        items = [(str(k), v) for k, v in synthesizers.items()]
    else:
        try:
            items = [(None, s) for s in synthesizers]
        except TypeError:
            raise SpecError("synthesizers must be a name, a HybridSynthesizer, or a sequence or "
                            f"mapping of them; got {type(synthesizers).__name__}.") from None
    if not items:
        raise SpecError(f"synthesizers is empty; name at least one of {', '.join(SYNTHESIZERS)}.")
    specs = []
    for label, s in items:
        if isinstance(s, str):
            specs.append(_from_name(s, label))
        elif isinstance(s, HybridSynthesizer):
            cov = s.generator if isinstance(s.generator, str) else type(s.generator).__name__
            specs.append(SynthSpec(label or f"hybrid[{cov}]", "hybrid", None, s))
        else:
            raise SpecError(f"a synthesizer must be one of the names {', '.join(SYNTHESIZERS)} or a "
                            f"HybridSynthesizer; got {type(s).__name__}.")
    names = [s.name for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecError(f"synthesizer labels must be unique; {dup} appear twice. Pass a mapping "
                        "{label: synthesizer} to name them.")
    if any(s.needs_deep for s in specs):
        require_deep()  # a clear ImportError now rather than one failed repeat after another
    return specs


def _hybrid(spec: SynthSpec, seed: np.random.SeedSequence, options: dict) -> HybridSynthesizer:
    if spec.instance is not None:
        inst = spec.instance
        if callable(getattr(inst, "get_params", None)):  # scikit-learn style: every parameter, knobs included
            params = copy.deepcopy(inst.get_params(deep=False))
        else:
            names = [p for p in inspect.signature(type(inst).__init__).parameters if p != "self"]
            params = {p: copy.deepcopy(getattr(inst, p)) for p in names if hasattr(inst, p)}
        params["random_state"] = seed
        return type(inst)(**params)
    settings = SynthSettings(covariate_options=options["deep"] if spec.generator in _DEEP else None, holdout=0.0)
    return HybridSynthesizer(generator=spec.generator, settings=settings,
                             propensity=options["propensity"], outcome=options["outcome"],
                             n_reference=20_000, random_state=seed)


def draw_synthetic(spec: SynthSpec, train: CausalData, n: int, seed: np.random.SeedSequence,
                   options: dict) -> tuple[CausalData, pd.DataFrame | None, float]:
    """Fit ``spec`` on ``train`` with a fresh seed and draw ``n`` rows.

    Returns the synthetic data, the truth frame (hybrid only, else None) and the
    synthesizer's population ATE (NaN for joint baselines, which carry no truth).
    """
    fit_seed, sample_seed = seed.spawn(2)
    # record (and drop) warnings: bootstrap privacy warnings, which the hybrid re-enables
    # inside its fit, and ctgan chatter; the audit reports privacy itself
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        if spec.kind == "hybrid":
            synth = _hybrid(spec, fit_seed, options).fit(train)
            sample = synth.sample(n, random_state=sample_seed)
            return sample.data, sample.truth, float(synth.population_ate_)
        deep = options["deep"] if spec.generator in _DEEP else None
        joint = JointSynthesizer(generator=spec.generator, generator_options=deep,
                                 random_state=fit_seed).fit(train)
        # an empty or tiny arm raises DataError in CausalData: the audit records a failed repeat
        return joint.sample(n, random_state=sample_seed), None, float("nan")
