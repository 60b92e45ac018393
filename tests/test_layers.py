"""The import graph of causalsynth keeps its layers (see README, "Where things live").

Read from the source with ``ast`` (every import counts: module level, inside functions and
under ``TYPE_CHECKING``), so CI fails on a new cycle, an upward import, an import between the
sibling study packages, a private name used across packages, a submodule importing its own
package face, or a function grown past 80 lines without a stated reason.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "causalsynth"

#: Layer of every module, by dotted prefix (the longest matching prefix wins). A module that
#: matches none fails the test: a new module must be given its place here.
LAYERS = {
    "causalsynth.errors": 0, "causalsynth._version": 0, "causalsynth._random": 0,
    "causalsynth._checks": 0, "causalsynth.progress": 0, "causalsynth.report": 0,
    "causalsynth.data": 1, "causalsynth.sample": 1, "causalsynth._resample": 1,
    "causalsynth.privacy": 1, "causalsynth.fidelity": 1, "causalsynth.datasets": 1,
    "causalsynth._glm": 2, "causalsynth.learners": 2,
    "causalsynth.nuisance": 3,
    "causalsynth.estimators": 4,
    "causalsynth.synth": 5,
    "causalsynth.simulate": 6, "causalsynth.audit": 6, "causalsynth.positivity": 6,
    "causalsynth.cli": 7,
    "causalsynth": 8,  # the face: re-exports only
}
SIBLINGS = ("causalsynth.simulate", "causalsynth.audit", "causalsynth.positivity")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


MODULES = _modules()


def _layer(module: str) -> int | None:
    best = None
    for prefix, level in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, level)
    return None if best is None else best[1]


def _top(module: str) -> str:
    """The package a module belongs to: causalsynth.<first part>."""
    return ".".join(module.split(".")[:2])


def _imports(path: Path, module: str | None):
    """(target module, imported name or None, line) for every causalsynth import in ``path``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "causalsynth":
                    yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    continue
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "causalsynth":
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in MODULES:  # "from . import audit": the submodule itself
                    yield full, None, node.lineno
                else:
                    yield target, alias.name, node.lineno


def _edges() -> dict[str, set[tuple[str, int]]]:
    edges: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for module, path in MODULES.items():
        for target, _, line in _imports(path, module):
            if target != module:
                edges[module].add((target, line))
    return edges


EDGES = _edges()


def _private_module(target: str) -> str | None:
    """The first private part below a subpackage (causalsynth.synth._deep), if any."""
    parts = target.split(".")
    for k in range(2, len(parts)):
        if parts[k].startswith("_") and not parts[k].startswith("__"):
            return ".".join(parts[: k + 1])
    return None


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer(m) is None] == []


def _cycles(edges) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w, _ in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return cycles


def _upward(edges) -> list[str]:
    return [f"{m}:{line} (L{_layer(m)}) -> {t} (L{_layer(t)})" for m, ts in edges.items() for t, line in ts
            if _layer(t) is not None and _layer(m) is not None and _layer(t) > _layer(m)]


def test_no_import_cycles():
    assert _cycles(EDGES) == []


def test_no_upward_imports():
    assert _upward(EDGES) == []


def test_synth_never_imports_the_estimators():
    bad = [f"{m}:{line} -> {t}" for m, ts in EDGES.items() if m.startswith("causalsynth.synth")
           for t, line in ts if t.startswith("causalsynth.estimators")]
    assert bad == []


def test_study_packages_do_not_import_each_other():
    bad = []
    for m, ts in EDGES.items():
        for t, line in ts:
            fm = next((s for s in SIBLINGS if _top(m) == s), None)
            ft = next((s for s in SIBLINGS if _top(t) == s), None)
            if fm and ft and fm != ft:
                bad.append(f"{m}:{line} -> {t}")
    assert bad == []


def test_nothing_imports_the_cli_and_subcommands_share_only_common():
    bad = []
    for m, ts in EDGES.items():
        for t, line in ts:
            if _top(t) == "causalsynth.cli" and _top(m) != "causalsynth.cli":
                bad.append(f"{m}:{line} -> {t}")
            subcommand = _top(m) == "causalsynth.cli" and m not in ("causalsynth.cli", "causalsynth.cli._common",
                                                                     "causalsynth.cli.app", "causalsynth.cli.__main__")
            if subcommand and _top(t) == "causalsynth.cli" and t != "causalsynth.cli._common":
                bad.append(f"{m}:{line} -> {t}")
    assert bad == []


def test_no_submodule_imports_its_own_package_face():
    bad = [f"{m}:{line}" for m, ts in EDGES.items() for t, line in ts
           if MODULES[m].name not in ("__init__.py", "__main__.py") and "." in m and t == m.rsplit(".", 1)[0]]
    assert bad == []


#: What the package face may define besides imports, its docstring and ``__all__``: the PEP 562
#: lazy re-export hooks, and the module class that keeps ``simulate``/``audit`` (functions named
#: like their subpackages) when a subpackage is imported first.
FACE_FUNCTIONS = ("__getattr__", "__dir__", "_mirror_submodules")  # the last: submodule imports (issue 19)
FACE_CLASSES = ("_Face", "_Mirrored")


def _face_node_allowed(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # docstring
        return True
    if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]:
        return True
    # _SUBMODULES = ("audit", ...): the names of subpackages loaded on attribute access
    if (isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["_SUBMODULES"]
            and isinstance(node.value, ast.Tuple)
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts)):
        return True
    if isinstance(node, ast.FunctionDef) and node.name in FACE_FUNCTIONS:
        return True
    if isinstance(node, ast.ClassDef) and node.name in FACE_CLASSES:
        return True
    # sys.modules[__name__].__class__ = _Face
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Attribute) and node.targets[0].attr == "__class__"
            and isinstance(node.value, ast.Name) and node.value.id in FACE_CLASSES)


def test_the_package_face_only_reexports():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if not _face_node_allowed(node):
            pytest.fail(f"causalsynth/__init__.py line {node.lineno} does more than re-export")
    getattr_fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "__getattr__")
    assert all(isinstance(n, (ast.ImportFrom, ast.If, ast.Assign, ast.Return, ast.Raise, ast.Expr))
               for n in getattr_fn.body), "__getattr__ only imports a name and returns it"


def test_the_face_reexports_every_public_name_lazily():
    import subprocess
    import sys
    script = ("import sys, causalsynth as cs\n"
              "assert 'numpy' not in sys.modules, 'the package face imported numpy'\n"
              "import causalsynth.simulate.worlds, causalsynth.audit.engine  # subpackages first\n"
              "from causalsynth import *\n"
              "assert callable(cs.simulate) and cs.simulate.__module__.startswith('causalsynth.simulate')\n"
              "assert callable(cs.audit) and not isinstance(cs.audit, type(sys))\n"
              "missing = [n for n in cs.__all__ if not hasattr(cs, n)]\n"
              "assert not missing, missing\n"
              "from causalsynth.estimators import estimate\n"
              "assert cs.estimate is estimate and set(cs.__all__) <= set(dir(cs))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _private_uses(path: Path, module: str | None) -> list[str]:
    out = []
    for target, name, line in _imports(path, module):
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{line}"
        private_module = _private_module(target)
        inside = module is not None and private_module is not None and (
            module == private_module.rsplit(".", 1)[0] or module.startswith(private_module.rsplit(".", 1)[0] + "."))
        if private_module and not inside:
            out.append(f"{where} imports private module {private_module}")
        if name and name.startswith("_") and not name.startswith("__"):
            if module is None or _top(module) != _top(target):
                out.append(f"{where} takes {name} from {target}")
    return out


def test_no_private_names_across_packages():
    bad = [u for m, p in MODULES.items() for u in _private_uses(p, m)]
    assert bad == []


def test_tests_notebooks_and_benchmarks_use_public_names():
    files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py"),
             *(ROOT / "notebooks").rglob("*.py"), *(ROOT / "docs").rglob("*.py")]
    bad = [u for f in files for u in _private_uses(f, None)]
    assert bad == []


def _code_lines(node: ast.AST) -> int:
    """Lines of a function, its docstring left out."""
    n = node.end_lineno - node.lineno + 1
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        n -= body[0].end_lineno - body[0].lineno + 1
    return n


def test_no_function_over_80_lines_without_a_reason():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _code_lines(node) > 80:
                head = " ".join(lines[max(node.lineno - 2, 0): node.lineno])
                if "# long:" not in head:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({_code_lines(node)} lines)")
    assert bad == [], "split these functions, or say why not in a '# long: <reason>' comment above them"


def test_the_check_knows_a_bad_graph_when_it_sees_one(tmp_path):
    # the helpers above, on a small fake package: each rule must fire
    assert _layer("causalsynth.synth.hybrid") == 5 and _layer("causalsynth.estimators.core") == 4
    assert _private_module("causalsynth.synth._deep") == "causalsynth.synth._deep"
    assert _private_module("causalsynth._glm") is None  # top-level foundation modules are shared
    fake = tmp_path / "t.py"
    fake.write_text("from causalsynth.estimators.core import _secret\nfrom causalsynth.synth._deep import x\n")
    uses = _private_uses(fake, None)
    assert len(uses) == 2 and "_secret" in uses[0] and "synth._deep" in uses[1]
    fake_edges = {"causalsynth.data": {("causalsynth.estimators.core", 3)},
                  "causalsynth.estimators.core": {("causalsynth.data", 5)}}
    assert _cycles(fake_edges) == [["causalsynth.data", "causalsynth.estimators.core"]]
    assert _upward(fake_edges) == ["causalsynth.data:3 (L1) -> causalsynth.estimators.core (L4)"]
