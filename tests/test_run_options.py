"""RunOptions: the one object for how long work runs (issue 19)."""
import pytest

import causalsynth as cs
from causalsynth.errors import SpecError
from causalsynth.progress import RunOptions, as_run_options


def test_defaults_and_replace():
    run = cs.RunOptions()
    assert (run.n_jobs, run.backend, run.scheduler, run.checkpoint, run.resume, run.progress) == \
        (1, "joblib", None, None, False, None)
    two = run.replace(n_jobs=2, checkpoint="ck")
    assert two.n_jobs == 2 and two.checkpoint == "ck" and run.n_jobs == 1
    assert two == RunOptions(n_jobs=2, checkpoint="ck") and two != run
    assert as_run_options(None) == run and as_run_options(two) is two


@pytest.mark.parametrize("kwargs, words", [
    ({"n_jobs": 0}, "n_jobs"), ({"n_jobs": 1.5}, "n_jobs"), ({"n_jobs": True}, "n_jobs"),
    ({"backend": "spark"}, "backend"), ({"scheduler": "tcp://x:1"}, "backend='dask'"),
    ({"resume": True}, "checkpoint="), ({"resume": "yes"}, "resume"), ({"progress": 1}, "progress"),
])
def test_bad_settings_are_refused_with_the_setting_named(kwargs, words):
    with pytest.raises(SpecError, match=words):
        RunOptions(**kwargs)


def test_read_only_and_typed():
    run = RunOptions()
    with pytest.raises(AttributeError, match="read-only"):
        run.n_jobs = 4
    with pytest.raises(SpecError, match="no setting 'jobs'"):
        run.replace(jobs=2)
    with pytest.raises(SpecError, match="RunOptions"):
        as_run_options({"n_jobs": 2})
