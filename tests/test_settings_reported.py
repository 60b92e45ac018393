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


def test_frozen_settings_do_not_follow_later_edits_of_what_was_passed():
    import numpy as np

    from causalsynth.estimators import EstimateOptions
    from causalsynth.simulate.selection import StudyOptions
    from causalsynth.synth import SynthSettings
    options, derived, rules, folds = {"epochs": 5}, {"u": "x > 0"}, {"r": ("glm", "or")}, np.array([0, 1, 0, 1])
    settings = SynthSettings(covariate_options=options, derived=derived)
    study = StudyOptions(rules=rules)
    est = EstimateOptions(folds=folds)
    options["epochs"], derived["u"], rules["r"], folds[0] = 500, "x < 0", ("gbm", "ipw"), 1
    assert settings.covariate_options == {"epochs": 5} and settings.derived == {"u": "x > 0"}
    assert study.rules == {"r": ("glm", "or")}
    assert est.folds.tolist() == [0, 1, 0, 1] and not est.folds.flags.writeable


def test_audit_json_names_its_level_bounds_and_folds():
    from causalsynth.audit import AuditConfig
    data = cs.datasets.load_nhefs()
    config = AuditConfig(n_reps=1, utility_learners=("linear",), detection_classifier="logistic", detection_folds=2,
                         level=0.9, propensity_bounds=(0.05, 0.95), n_folds=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.audit(data, config, synthesizers=("bootstrap",), progress=False, random_state=0)
    s = res.to_dict()["settings"]
    assert (s["level"], tuple(s["propensity_bounds"]), s["n_folds"], s["detection_folds"]) == (0.9, (0.05, 0.95), 3, 2)
