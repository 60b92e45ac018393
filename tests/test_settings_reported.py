"""A result's JSON names the settings it was computed with (a review found an ATT simulation
whose JSON said nothing of the ATT, and an augmentation evaluation dropping five settings)."""
import warnings

import causalsynth as cs
from causalsynth.datasets.designs import LinearLogisticDesign, PoorOverlapDesign
from causalsynth.positivity import AugmentSpec, evaluate_augmentation
from causalsynth.simulate import SimulationOptions


def test_simulation_json_names_its_estimand_and_bounds():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.simulate(LinearLogisticDesign(n_features=3), n=200, n_reps=2, estimators=("ipw",),
                          options=SimulationOptions(estimand="att", propensity_bounds=(0.05, 0.95)), random_state=0)
    out = res.to_dict()
    assert out["estimand"] == "att" and tuple(out["propensity_bounds"]) == (0.05, 0.95) and out["trim_bounds"] is None


def test_augmentation_evaluation_reports_every_setting_of_its_spec():
    spec = AugmentSpec(budget=None, if_risky="ignore", n_models=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate_augmentation(PoorOverlapDesign(), spec, n=200, n_reps=2, random_state=0)
    for name, value in spec.to_dict().items():
        if name not in ("propensity", "outcome"):
            assert ev.settings[name] == value, name
    assert ev.settings["if_risky"] == "ignore" and ev.settings["n_models"] == 3
