"""The import graph, drawn from the code itself (ast): no loops, no arrow from a lower layer to a higher one.

Every `import` / `from … import` counts, the ones inside functions too (a lazy import is still a dependency);
only imports under `if TYPE_CHECKING:` are left out, since they never run. A module's layer is the rank of
the longest prefix in `LAYERS` that names it (a package root names only itself); an import may point to the same rank or lower, never higher.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sora_lite", "eval", "app_ui")
SCRIPTS = ("app",)

# Low → high. The lowest layer holds the words everything shares; doors (CLI, app) sit on top.
LAYERS: list[tuple[int, tuple[str, ...]]] = [
    (0, ("sora_lite", "sora_lite.common")),
    (1, ("sora_lite.media", "sora_lite.store", "sora_lite.markup", "sora_lite.fair_queue", "sora_lite.visitors",
         "sora_lite.sound")),
    (2, ("sora_lite.accounts", "sora_lite.provenance", "sora_lite.leaderboard")),
    (3, ("sora_lite.cameo",)),
    (4, ("sora_lite.safety",)),
    (5, ("sora_lite.engines", "sora_lite.engines.base")),
    (6, ("sora_lite.engines.world", "sora_lite.engines.hub")),
    (7, ("sora_lite.engines.catalog",)),
    (8, ("sora_lite.feed", "sora_lite.social")),
    (9, ("sora_lite.studio",)),
    (10, ("sora_lite.web_guard", "sora_lite.cli", "sora_lite.__main__")),
    (20, ("eval", "eval.metrics.errors", "eval.metrics.frames", "eval.protocols", "eval.precision",
          "eval.resources", "eval.suites", "eval.report")),
    (21, ("eval.features",)),
    (22, ("eval.metrics",)),
    (23, ("eval.generators",)),
    (24, ("eval.scoring",)),
    (25, ("eval.run_state",)),
    (26, ("eval.run_sets",)),
    (27, ("eval.runner",)),
    (28, ("eval.run", "eval.calibrate", "eval.calibrate_real", "eval.calibrate_real_av",
          "eval.calibrate_real_physics")),
    (30, ("app_ui",)),
    (31, ("app",)),
]
# Package roots name only themselves (their __init__), so a new subpackage must be given its own layer.
ROOTS = {"sora_lite", "eval"}
# Same rank, but neither may import the other: an engine does not borrow another engine's parts.
APART = [("sora_lite.engines.world", "sora_lite.engines.hub")]
# Only the app's own modules may import Gradio.
GRADIO_ALLOWED = ("app", "app_ui")


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    for script in SCRIPTS:
        if (ROOT / f"{script}.py").exists():
            mods[script] = ROOT / f"{script}.py"
    return mods


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[tuple[str, int, str | None, list[str]]]:
    """(kind, level, module, names) for every import that can run."""
    found: list[tuple[str, int, str | None, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.extend(("import", 0, a.name, []) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                found.append(("from", child.level, child.module, [a.name for a in child.names]))
            visit(child)

    visit(tree)
    return found


@lru_cache(maxsize=1)
def build_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """module → modules it imports (inside the project), and module → third-party top-level names."""
    mods = _modules()

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    external: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for kind, level, module, names in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if kind == "import":
                targets = [module or ""]
            else:
                base = module or ""
                if level:
                    parts = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    parts = parts[: len(parts) - (level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{n}" if f"{base}.{n}" in mods else base for n in names]
            for target in targets:
                dep = owner(target)
                if dep is None:
                    external[mod].add(target.split(".")[0])
                elif dep != mod:
                    graph[mod].add(dep)
    for mod in mods:
        graph.setdefault(mod, set())
    return dict(graph), dict(external)


def rank(mod: str) -> int:
    best, best_len = None, -1
    for r, prefixes in LAYERS:
        for p in prefixes:
            if (mod == p or (p not in ROOTS and mod.startswith(p + "."))) and len(p) > best_len:
                best, best_len = r, len(p)
    if best is None:
        raise AssertionError(f"{mod} has no layer: add its prefix to LAYERS in tests/test_layers.py")
    return best


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
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
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return build_graph()[0]


@pytest.mark.slow
def test_the_graph_is_drawn(graph: dict[str, set[str]]) -> None:
    assert "sora_lite.engines.base" in graph["sora_lite.studio"]
    assert "sora_lite.common.records" in graph["sora_lite.feed"]
    assert len(graph) > 100


def test_no_import_loops(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_the_loop_finder_finds_loops() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_arrow_points_up(graph: dict[str, set[str]]) -> None:
    upward = sorted(f"{a} ({rank(a)}) → {b} ({rank(b)})" for a, deps in graph.items() for b in deps
                    if rank(b) > rank(a))
    assert upward == []


def test_engines_do_not_borrow_from_each_other(graph: dict[str, set[str]]) -> None:
    def inside(mod: str, pkg: str) -> bool:
        return mod == pkg or mod.startswith(pkg + ".")

    crossing = sorted(f"{a} → {b}" for x, y in APART for a, deps in graph.items() for b in deps
                      if (inside(a, x) and inside(b, y)) or (inside(a, y) and inside(b, x)))
    assert crossing == []


def test_only_the_app_imports_gradio() -> None:
    external = build_graph()[1]
    users = sorted(m for m, names in external.items() if "gradio" in names
                   and not any(m == p or m.startswith(p + ".") for p in GRADIO_ALLOWED))
    assert users == []


def test_the_registry_names_engines_without_importing_them() -> None:
    """The registry is a table of "module:Class" paths; every path resolves to something callable."""
    from sora_lite.engines import base

    assert not {"sora_lite.engines.world", "sora_lite.engines.hub"} & build_graph()[0]["sora_lite.engines.base"]
    for path in [*base.BUILTIN_ENGINES.values(), *base.BUILTIN_RESOLVERS]:
        module, _, attr = path.partition(":")
        assert (ROOT / (module.replace(".", "/") + ".py")).exists() or (ROOT / module.replace(".", "/")).is_dir()
        assert attr


def test_an_engine_that_cannot_import_says_so() -> None:
    from sora_lite.engines import EngineUnavailable, base

    with pytest.raises(EngineUnavailable, match="cannot be imported"):
        base.resolve_path("sora_lite.engines.no_such_module:Engine")


def test_the_studio_flow_is_engine_agnostic(graph: dict[str, set[str]]) -> None:
    """The flow reaches engines through the registry only: no import of an engine package's modules."""
    engines = ("sora_lite.engines.world", "sora_lite.engines.hub")
    assert sorted(d for d in graph["sora_lite.studio"] if d.startswith(engines)) == []
