"""The privacy filter's warnings follow the caller's warning filters (a review found the
"min_dcr='auto' is 0" warning forced on through a filter meant for the generator's own)."""
import warnings

import causalsynth as cs
from causalsynth.errors import PrivacyWarning


def _fit_and_record(action):
    data = cs.datasets.load_lalonde()  # tied rows: min_dcr='auto' comes out 0 and warns
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter(action)
        cs.HybridSynthesizer(min_dcr="auto", n_reference=2000, random_state=0).fit(data)
    return [w for w in seen if issubclass(w.category, PrivacyWarning)]


def test_an_ignored_privacy_warning_stays_ignored():
    assert _fit_and_record("always"), "the zero-threshold warning must show by default"
    assert _fit_and_record("ignore") == []
