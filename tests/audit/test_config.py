"""AuditConfig: the audit's settings as one keyword-only, validated, frozen object (issue 19)."""
from __future__ import annotations

import dataclasses

import pytest

from causalsynth.audit import AuditConfig, audit
from causalsynth.errors import SpecError


def test_defaults_and_normalisation():
    cfg = AuditConfig(estimators="aipw", generator_options={"batch_size": 50})
    assert cfg.estimators == ("aipw",) and cfg.n_reps == 5 and cfg.primary_estimator == "aipw"
    assert cfg.synth_options["deep"] == {"epochs": 300, "batch_size": 50}


def test_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        AuditConfig(("aipw",))  # settings are named
    cfg = AuditConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_reps = 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_reps=0), "n_reps"),
    (dict(epochs=0), "epochs"),
    (dict(detection_folds=1), "detection_folds"),
    (dict(n_synthetic=5), "n_synthetic"),
    (dict(holdout=0.9), "holdout"),
    (dict(level=95), "level"),
    (dict(propensity_bounds=(0.5, 0.1)), "bounds"),
    (dict(estimators=("magic",)), "unknown estimator"),
    (dict(detection_classifier="svm"), "detection_classifier"),
    (dict(generator_options=3), "generator_options"),
])
def test_each_setting_is_checked_when_built(kwargs, match):
    with pytest.raises(SpecError, match=match):
        AuditConfig(**kwargs)


def test_audit_takes_a_config_not_its_fields(lalonde):
    with pytest.raises(SpecError, match="config must be an AuditConfig"):
        audit(lalonde, {"n_reps": 1})
    with pytest.raises(TypeError):
        audit(lalonde, n_reps=1)  # the settings live in AuditConfig only
