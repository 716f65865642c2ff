"""The rooms issue 15 split stay split: `app.py` only orders the tabs (each tab is built in `app_ui/`), and no
function in the app (app.py, app_ui/), the library (sora_lite/) or the eval toolkit (eval/) grows past 100 lines
again: a function that long is several steps, and each step wants its own name."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 100
PACKAGES = ("app_ui", "sora_lite", "eval")
# "path::function" → the reason it may stay longer; empty on purpose: split a long function instead of adding it
ALLOWED: dict[str, str] = {}


def _files() -> list[str]:
    return ["app.py", *sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))]


def _long_functions(source: str, path: str) -> list[str]:
    """Every function (methods and nested ones too) of more than MAX_LINES lines, decorators not counted."""
    tree = ast.parse(source)
    return [f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_LINES and f"{path}::{node.name}" not in ALLOWED]


def test_no_long_functions() -> None:
    files = _files()
    assert len(files) > 100 and "sora_lite/engines/world/engine.py" in files and "eval/run.py" in files
    long = [f for path in files for f in _long_functions((ROOT / path).read_text(encoding="utf-8"), path)]
    assert long == [], f"split these along their seams (at most {MAX_LINES} lines a function): {long}"


def test_the_length_check_finds_a_long_function() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES))
    assert _long_functions(f"def f():\n{body}", "m.py") == [f"m.py:1 f ({MAX_LINES + 1} lines)"]
    assert _long_functions(f"def f():\n{body[:body.rindex('    x')]}", "m.py") == []  # 100 lines pass
    nested = "class A:\n    def run(self):\n        def inner():\n" + textwrap.indent(body, "        ")
    assert [x.split()[1] for x in _long_functions(nested, "m.py")] == ["run", "inner"]


def test_app_py_defines_no_tab() -> None:
    """Callbacks and layouts live in app_ui/<tab>.py; app.py's build_demo only calls the tab builders."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    build = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build_demo")
    nested = [n.name for n in ast.walk(build) if isinstance(n, ast.FunctionDef) and n is not build]
    assert nested == [], f"callbacks defined inside app.build_demo: {nested}"
    assert build.end_lineno - build.lineno + 1 <= 40


@pytest.mark.slow  # imports the app (~8 s here)
def test_the_names_other_code_imports_from_app_stay() -> None:
    import app

    for name in ("Defaults", "Guard", "build_demo", "launch", "_reservation", "shown_errors", "gpu", "SIZES"):
        assert hasattr(app, name), name
    assert app._reservation(2, 3, 4)("p", None, "world", 4, "256x256") > 0
