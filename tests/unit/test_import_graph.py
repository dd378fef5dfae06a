"""The package's import graph has no cycle, and the parameter, suite and deployment modules import in any
order in a fresh interpreter (issue 12: ``suite.py`` and ``deployment/`` used to import each other).

The static check reads every ``import`` statement of every ``hedgevault`` module with ``ast``: those at
module level and those inside functions (run on first use, so a circle through them still ties the two
modules together), but not those under ``if TYPE_CHECKING:`` (never run). Importing ``a.b.c`` also runs the
package ``a.b``'s ``__init__``, so that counts as an edge too (except from a module to its own packages,
which Python runs first whoever imports it: a package's ``__init__`` may import its own modules).
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hedgevault"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every hedgevault module named by an import in ``tree`` (outside ``if TYPE_CHECKING:``)."""
    found: set[str] = set()
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # ``from pkg import submodule``
        todo.extend(ast.iter_child_nodes(node))
    return {name for name in found if name == "hedgevault" or name.startswith("hedgevault.")}


def import_graph() -> dict[str, set[str]]:
    """module -> the hedgevault modules importing it runs (its own imports and their packages' ``__init__``)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        names = _imported(ast.parse(path.read_text()), module, path.name == "__init__.py")
        edges: set[str] = set()
        for name in names:
            parts = name.split(".")
            for k in range(1, len(parts) + 1):  # a.b.c runs a and a.b first
                prefix = ".".join(parts[:k])
                if prefix in files and prefix != module and not module.startswith(prefix + "."):
                    edges.add(prefix)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = itertools.count()

    def visit(v: str) -> None:
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_the_known_edges() -> None:
    """The walker is not blind: edges that exist are found (a check that found nothing would pass too)."""
    graph = import_graph()
    assert "hedgevault.params" in graph["hedgevault.suite"]
    assert "hedgevault.params" in graph["hedgevault.deployment.config"]
    assert "hedgevault.deployment" in graph["hedgevault.suite"]  # via deployment.config: the package's __init__
    assert "hedgevault.chain.rpc" in graph["hedgevault.keeper.keeper"]


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_hedgevault_modules() -> None:
    assert cycles(import_graph()) == []


ORDERS = list(itertools.permutations(("hedgevault.params", "hedgevault.suite", "hedgevault.deployment")))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(m.split(".")[-1] for m in o) for o in ORDERS])
def test_modules_import_in_any_order_in_a_fresh_interpreter(order: tuple[str, ...]) -> None:
    # hedgevault.deployment resolves its names lazily: touch them so that its modules are really imported
    code = "import importlib\n" + "".join(
        f"m = importlib.import_module({name!r})\n"
        + ("m.run_deploy, m.attach_suite, m.DeployConfig\n" if name == "hedgevault.deployment" else "")
        for name in order
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
