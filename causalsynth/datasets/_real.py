"""Loaders of the embedded real datasets. See ``data/SOURCES.md`` for sources and citations."""
from __future__ import annotations

from importlib import resources

import pandas as pd

from .._checks import evaluate_expression
from ..data import CausalData
from ..errors import SpecError

__all__ = ["DATASETS", "load_dataset", "load_nhefs", "load_nhefs_frame", "load_lalonde", "load_lalonde_cps",
           "LALONDE_DERIVED"]

#: The What If covariates of NHEFS (Hernan & Robins, ch. 12).
NHEFS_COVARIATES = ("sex", "race", "age", "education", "smokeintensity", "smokeyrs",
                    "exercise", "active", "wt71")
NHEFS_CATEGORICAL = ("education", "exercise", "active")
#: The book's propensity model for quitting smoking (Program 12.2).
NHEFS_PROPENSITY_FORMULA = (
    "qsmk ~ sex + race + age + I(age**2) + C(education) + smokeintensity + I(smokeintensity**2)"
    " + smokeyrs + I(smokeyrs**2) + C(exercise) + C(active) + wt71 + I(wt71**2)")
#: The book's outcome model for standardization (Program 13.2).
NHEFS_OUTCOME_FORMULA = (
    "wt82_71 ~ qsmk + sex + race + age + I(age**2) + C(education) + smokeintensity"
    " + I(smokeintensity**2) + smokeyrs + I(smokeyrs**2) + C(exercise) + C(active) + wt71"
    " + I(wt71**2) + qsmk:smokeintensity")


def _read(name: str) -> pd.DataFrame:
    with resources.files("causalsynth.datasets").joinpath("data", name).open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def load_nhefs_frame(*, complete: bool = True) -> pd.DataFrame:
    """The embedded NHEFS table as a DataFrame.

    ``complete=True`` keeps the 1,566 rows with an observed weight change ``wt82_71``;
    ``complete=False`` returns all 1,629 rows (63 with a missing outcome).
    """
    frame = _read("nhefs.csv.gz")
    if complete:
        frame = frame.loc[frame["wt82_71"].notna()].reset_index(drop=True)
    return frame


def load_nhefs() -> CausalData:
    """NHEFS smokers: did quitting smoking (``qsmk``) change weight gain (``wt82_71``, kg)?

    The 1,566 complete cases analysed in Hernan & Robins, *Causal Inference: What If* (2020),
    chapters 12-13, with the book's nine confounders: sex, race, age, education (5 levels),
    smokeintensity (cigarettes/day), smokeyrs, exercise (3 levels), active (3 levels), wt71
    (kg). Published results: IP weighting 3.4 kg (95% CI 2.4 to 4.5), standardization 3.5 kg,
    unadjusted difference 2.5 kg. The book's models are in ``NHEFS_PROPENSITY_FORMULA`` and
    ``NHEFS_OUTCOME_FORMULA``.

    Source: NCHS/CDC NHEFS (public domain) via the causaldata package (MIT); see
    ``causalsynth/datasets/data/SOURCES.md``.
    """
    frame = load_nhefs_frame(complete=True)
    return CausalData(frame, treatment="qsmk", outcome="wt82_71", covariates=list(NHEFS_COVARIATES),
                      categorical=list(NHEFS_CATEGORICAL))


def load_lalonde() -> CausalData:
    """The NSW job-training experiment (Dehejia-Wahba sample): 445 men, ``treat`` -> ``re78``.

    185 treated and 260 controls, randomized; outcome 1978 earnings (US dollars). Covariates:
    age, educ, black, hisp, marr, nodegree, re74, re75. The experimental difference in means
    is 1,794.34 dollars.

    Sources: LaLonde (1986), AER 76(4); Dehejia & Wahba (1999), JASA 94(448); data via the
    causaldata package (MIT); see ``causalsynth/datasets/data/SOURCES.md``.
    """
    frame = _read("nsw_dw.csv.gz")
    return CausalData(frame, treatment="treat", outcome="re78",
                      covariates=["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"])


#: Indicators of zero earnings, functions of the earnings they flag (Dehejia & Wahba 1999).
LALONDE_DERIVED = {"u74": "re74 == 0", "u75": "re75 == 0"}
LALONDE_COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]


def load_lalonde_cps() -> CausalData:
    """NSW treated men with CPS controls: the observational benchmark of LaLonde (1986) and
    Dehejia & Wahba (1999), 185 treated and 15,992 controls, ``treat`` -> ``re78``.

    Covariates: age, educ, black, hisp, marr, nodegree, re74, re75, and the zero-earnings
    indicators u74 = (re74 == 0) and u75 = (re75 == 0), declared as derived columns so that
    synthetic copies keep them consistent. The experimental benchmark of the effect on the
    treated is the NSW difference in means, 1,794 dollars; overlap is poor (most CPS men look
    nothing like the program's participants).

    Sources: the treated of the NSW Dehejia-Wahba sample (as :func:`load_lalonde`) and the
    `cps_mixtape` controls of causaldata 0.1.5 (MIT); see ``causalsynth/datasets/data/SOURCES.md``.
    """
    frame = _read("nsw_cps.csv.gz")
    for col, expr in LALONDE_DERIVED.items():
        frame[col] = evaluate_expression(expr, frame, what=f"derived column {col!r}").astype("int64")
    return CausalData(frame, treatment="treat", outcome="re78",
                      covariates=[*LALONDE_COVARIATES, *LALONDE_DERIVED], derived=dict(LALONDE_DERIVED))


#: Embedded datasets by name: loader.
DATASETS = {"nhefs": load_nhefs, "lalonde": load_lalonde, "lalonde_cps": load_lalonde_cps}


def load_dataset(name: str) -> CausalData:
    """Load an embedded dataset by name (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise SpecError(f"no embedded dataset {name!r}; choose from {sorted(DATASETS)}")
    return DATASETS[name]()
