"""Execute every notebook in place so its outputs (tables, plots) are readable without running it.

    OMP_NUM_THREADS=1 python notebooks/_execute.py [NAME ...]

The sources are built by _build.py from notebooks/src; the test suite executes
the notebooks again on every run.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def main(names) -> None:
    for path in sorted(HERE.glob("*.ipynb")):
        if names and path.name not in names:
            continue
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as tmp:
            NotebookClient(nb, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": tmp}}).execute()
        nbformat.write(nb, path)
        print(f"executed {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
