"""Issue 19: the package face binds the functions ``simulate`` and ``audit`` under their
subpackages' names; ``import causalsynth.<subpackage>.<module> as m`` still works.

Each case runs in a fresh interpreter: the order of imports is what is tested."""
from __future__ import annotations

import subprocess
import sys

import pytest

CASES = [
    "import causalsynth.simulate.select as m; assert m.__name__ == 'causalsynth.simulate.select'",
    "import causalsynth.audit.engine as m; assert m.__name__ == 'causalsynth.audit.engine'",
    # the function first, a submodule not yet imported afterwards
    "import causalsynth as cs; f = cs.simulate; import causalsynth.simulate.costs as m; "
    "assert m.__name__ == 'causalsynth.simulate.costs' and cs.simulate is f and callable(f)",
    "from causalsynth.audit import audit; import causalsynth.audit.subgroups as m; import causalsynth as cs; "
    "assert cs.audit is audit and m.__name__ == 'causalsynth.audit.subgroups'",
    # the face keeps the functions whatever was imported
    "import causalsynth.simulate.select, causalsynth.audit.engine; import causalsynth as cs, types; "
    "assert isinstance(cs.simulate, types.FunctionType) and isinstance(cs.audit, types.FunctionType)",
    "from causalsynth.simulate import select as m; from causalsynth.audit import engine as e",
]


@pytest.mark.parametrize("code", CASES)
def test_submodule_import_forms_work(code):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
