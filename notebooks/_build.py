"""Write every notebook from its cell list in notebooks/src (run: python notebooks/_build.py [NAME ...]).

``src/0N_<name>.py`` holds ``CELLS``, a list of ("md" | "code", source) pairs, and becomes
``0N_<name>.ipynb``. Keeping the sources as plain Python keeps diffs readable; the notebooks
are executed by notebooks/_execute.py (outputs committed) and by tests/test_notebooks.py.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"


def cells_of(source: Path) -> list[tuple[str, str]]:
    """The (kind, source) cells defined in one file of notebooks/src."""
    return runpy.run_path(str(source))["CELLS"]


def notebook(cells: list[tuple[str, str]]):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells]
    return nb


def build(names=None) -> None:
    for source in sorted(SOURCES.glob("0*.py")):
        target = HERE / f"{source.stem}.ipynb"
        if names and target.name not in names and source.stem not in names:
            continue
        nbformat.write(notebook(cells_of(source)), target)
        print(f"wrote {target}")


if __name__ == "__main__":
    build(sys.argv[1:])
