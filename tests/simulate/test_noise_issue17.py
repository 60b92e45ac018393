"""Issue 17: the real data's noise variance without the model's own fitting error."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalsynth.datasets import NonlinearHeterogeneousDesign
from causalsynth.simulate.difficulty import NOISE_FLOOR, data_difficulty, learning_curve_noise


def test_learning_curve_removes_a_fitting_error_that_halves_with_twice_the_data():
    # noise 1, fitting error 2 at the full training size and 4 at half of it (rate 1)
    assert learning_curve_noise(3.0, 5.0) == pytest.approx(1.0)
    # a slower rate leaves part of it: still an upper estimate, below the out-of-fold variance
    assert 1.0 < learning_curve_noise(1.0 + 2.0, 1.0 + 2.0 * 2 ** 0.5) < 3.0


def test_learning_curve_is_floored_and_never_above_the_out_of_fold_variance():
    assert learning_curve_noise(2.0, 10.0) == pytest.approx(NOISE_FLOOR * 2.0)
    assert learning_curve_noise(2.0, 1.5) == pytest.approx(2.0)
    assert learning_curve_noise(2.0, float("nan")) == 2.0


def test_noise_estimate_is_closer_to_the_truth_than_out_of_fold_residuals():
    # the design's noise is N(0, 1); its surfaces are nonlinear, so out-of-fold residuals carry
    # the boosted trees' fitting error on top of it
    data = NonlinearHeterogeneousDesign().sample(1000, random_state=1).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = data_difficulty(data, random_state=0)
    for arm in ("control", "treated"):
        assert d[f"noise_var_{arm}"] == min(d[f"oof_var_{arm}"], d[f"nn_var_{arm}"], d[f"curve_var_{arm}"])
        assert d[f"curve_var_{arm}"] < d[f"oof_var_{arm}"]
    assert abs(np.mean([d["noise_var_control"], d["noise_var_treated"]]) - 1.0) < abs(
        np.mean([d["oof_var_control"], d["oof_var_treated"]]) - 1.0)
