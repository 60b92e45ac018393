"""Execute every notebook in notebooks/ (they carry their own asserts), and check each one
holds the cells of its source in notebooks/src."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "each notebook shows at least one plot"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_matches_its_source(path):
    import runpy
    source = path.parent / "src" / f"{path.stem}.py"
    assert source.exists(), f"{path.name} has no source in notebooks/src"
    cells = runpy.run_path(str(source))["CELLS"]
    nb = nbformat.read(path, as_version=4)
    kinds = {"md": "markdown", "code": "code"}
    assert [(kinds[k], s) for k, s in cells] == [(c.cell_type, c.source) for c in nb.cells], \
        f"{path.name} differs from {source.name}: run python notebooks/_build.py {path.name} and re-execute it"
