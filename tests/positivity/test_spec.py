"""AugmentSpec: augmentation settings as one keyword-only, validated, frozen object shared by
augment_positivity, evaluate_augmentation and the bootstrap (issue 19)."""
from __future__ import annotations

import dataclasses

import pytest

from causalsynth.errors import SpecError
from causalsynth.positivity import AugmentSpec, PoorOverlapDesign, augment_positivity, evaluate_augmentation


def test_defaults():
    spec = AugmentSpec()
    assert (spec.budget, spec.delta, spec.generator, spec.n_folds, spec.if_risky) == ("auto", 0.05, "local", 5,
                                                                                       "withhold")
    assert spec.to_dict()["n_models"] == 5


def test_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        AugmentSpec(10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        AugmentSpec().delta = 0.1


@pytest.mark.parametrize("kwargs, match", [
    ({"budget": 0}, "budget must be a positive integer"),
    ({"delta": 0.7}, r"delta must be in \(0, 0.5\)"),
    ({"generator": "gan"}, "generator must be one of"),
    ({"uncertainty": "bayes"}, "uncertainty must be one of"),
    ({"n_folds": 1}, "n_folds must be an integer >= 2"),
    ({"n_models": 1}, "n_models must be an integer >= 2"),
    ({"bandwidth": 0}, "bandwidth must be a number"),
    ({"bandwidth": True}, "bandwidth must be a number"),
    ({"noise": "yes"}, "noise must be True or False"),
    ({"max_depth": 0}, "max_depth"),
    ({"if_risky": "maybe"}, "if_risky must be one of"),
])
def test_each_setting_is_checked_when_built(kwargs, match):
    with pytest.raises(SpecError, match=match):
        AugmentSpec(**kwargs)


def test_folds_are_checked_against_the_arms_of_the_data():
    data = PoorOverlapDesign().sample(60, random_state=0).data
    smallest = min(data.n_treated, data.n_control)
    with pytest.raises(SpecError, match="too many for the smallest arm"):
        augment_positivity(data, AugmentSpec(n_folds=smallest))


def test_calls_take_the_spec_not_its_fields():
    data = PoorOverlapDesign().sample(200, random_state=0).data
    with pytest.raises(SpecError, match="spec must be an AugmentSpec"):
        augment_positivity(data, {"budget": 10})
    with pytest.raises(TypeError):
        augment_positivity(data, budget=10)
    with pytest.raises(SpecError, match="spec must be an AugmentSpec"):
        evaluate_augmentation(PoorOverlapDesign(), {"delta": 0.1}, n_reps=2)


def test_the_result_keeps_its_spec_for_the_bootstrap():
    data = PoorOverlapDesign().sample(400, random_state=3).data
    spec = AugmentSpec(budget=20, uncertainty="none", n_folds=3, if_risky="ignore")
    res = augment_positivity(data, spec, random_state=1)
    assert res.spec == spec and res.delta == spec.delta and res.generator == "local"
