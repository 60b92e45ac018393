"""Public calls stay readable: no public function or constructor takes more than ten
parameters, except config objects (dataclasses and the classes named in CONFIG_CLASSES), whose
fields are the settings (issue 19).

``WIDE`` lists the calls still over the limit with their current count; it may only shrink: a
call that grows, a new wide call, or a listed call that got narrow (remove it from the list)
all fail.
"""
from __future__ import annotations

import ast
from pathlib import Path

import causalsynth

LIMIT = 10
PACKAGE = Path(causalsynth.__file__).parent

#: configuration objects: their parameters are their settings
CONFIG_CLASSES: set[str] = {"RunOptions"}

#: calls still wider than LIMIT (qualified name -> parameter count); may only shrink
WIDE: dict[str, int] = {}


def _is_dataclass(node: ast.ClassDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def _count(fn: ast.FunctionDef) -> int:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names) + (a.vararg is not None) + (a.kwarg is not None)


def _public_calls():
    """(qualified name, parameter count) of every public function, method and constructor."""
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("cli/") or any(part.startswith("_") and part != "__init__.py"
                                         for part in rel.split("/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield f"{rel}:{node.name}", _count(node)
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                if _is_dataclass(node) or node.name in CONFIG_CLASSES:
                    continue
                for item in node.body:
                    if not isinstance(item, ast.FunctionDef):
                        continue
                    if item.name == "__init__":
                        yield f"{rel}:{node.name}", _count(item)
                    elif not item.name.startswith("_"):
                        yield f"{rel}:{node.name}.{item.name}", _count(item)


def test_no_public_call_takes_more_than_ten_parameters():
    found = dict(_public_calls())
    too_wide = {k: v for k, v in found.items() if v > LIMIT and WIDE.get(k, LIMIT) < v}
    assert not too_wide, (f"public calls with more than {LIMIT} parameters (group the settings in a "
                          f"keyword-only config object): {too_wide}")


def test_the_list_of_wide_calls_only_shrinks():
    found = dict(_public_calls())
    stale = {k: found.get(k) for k in WIDE if found.get(k, 0) <= LIMIT}
    assert not stale, f"these calls are no longer wide (or gone): remove them from WIDE: {stale}"


def test_the_counter_sees_parameters():
    # the check above cannot pass vacuously: it finds the package's calls and counts them
    found = dict(_public_calls())
    assert len(found) > 100
    assert found["progress.py:as_run_options"] == 1
