"""The layers of ``bulkops`` and an import-graph checker for them (used by ``test_layering.py``).

``LAYERS`` is the one list of layers; ``docs/architecture.md``'s map repeats it and a test checks that
the two agree. Every ``import`` in ``bulkops/`` counts: top-level, inside a function, under
``if TYPE_CHECKING:`` (reported as type-only), and ``importlib.import_module("literal")``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Bottom → top. A package may import the packages of lower layers, never one of its own layer
# (sideways) or of a higher one (upward). ``__init__`` is the package itself (``import bulkops``: the
# public surface, lazy); ``__main__`` is ``python -m bulkops``.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "models", "clock", "protos", "_version"),
    ("limits", "storage"),
    ("api",),
    ("engine", "sinks"),
    ("jobs",),
    ("__init__",),
    ("cli",),
    ("__main__",),
)
# Beside the stack: what each may import (besides itself). Layers from ``__init__`` up may import them.
SIDE: Mapping[str, frozenset[str]] = {
    "server": frozenset({"errors", "models", "clock", "protos", "limits", "storage"}),
}
SIDE_USERS_FROM = "__init__"
# May import anything; nothing in the library may import them.
TOOLS = frozenset({"testing"})
FORBIDDEN_TOP_LEVEL = frozenset({"benchmarks", "tests"})

Kind = Literal["top", "function", "type"]


@dataclass(frozen=True, slots=True)
class Edge:
    """``source`` imports ``target`` (both dotted module names) at ``path:line``."""

    source: str
    target: str
    path: str
    line: int
    kind: Kind

    def __str__(self) -> str:
        label = {"top": "", "function": " (inside a function)", "type": " (TYPE_CHECKING only)"}[self.kind]
        return f"{self.path}:{self.line} {self.source} -> {self.target}{label}"


def scan(root: Path, package: str = "bulkops") -> list[Edge]:
    """Every import edge from a module of ``package`` (found under ``root/package``)."""
    base = root / package
    modules = {_module_name(path, root) for path in base.rglob("*.py")}
    edges: list[Edge] = []
    for path in sorted(base.rglob("*.py")):
        source = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _imports(tree):
            for target in _targets(node, source, path.name == "__init__.py", modules):
                if target.split(".")[0] in {package, *FORBIDDEN_TOP_LEVEL}:
                    edges.append(Edge(source, target, str(path.relative_to(root)), node.lineno, kind))
    return edges


def layer_of(module: str, package: str = "bulkops") -> str:
    """The layer name of a module: ``bulkops.api.client`` → ``api``, ``bulkops`` → ``__init__``."""
    parts = module.split(".")
    if parts[0] != package:
        return parts[0]
    return parts[1] if len(parts) > 1 else "__init__"


def allowed(source: str, target: str) -> bool:
    """Whether layer ``source`` may import layer ``target`` (both from :func:`layer_of`)."""
    if target in FORBIDDEN_TOP_LEVEL:
        return False
    if source == target or source in TOOLS:
        return True
    if target in TOOLS:
        return False
    if source in SIDE:
        return target in SIDE[source]
    rank = {name: level for level, names in enumerate(LAYERS) for name in names}
    if source not in rank:
        return False  # a new top-level module or package: give it a layer first
    if target in SIDE:
        return rank[source] >= rank[SIDE_USERS_FROM]
    return target in rank and rank[target] < rank[source]


def layering_violations(edges: Iterable[Edge], package: str = "bulkops") -> list[Edge]:
    return [e for e in edges if not allowed(layer_of(e.source, package), layer_of(e.target, package))]


def cycles(edges: Iterable[Edge]) -> list[tuple[frozenset[str], bool]]:
    """Strongly connected components of more than one module, every kind of import counted:
    (modules, type_only). ``type_only`` is True when no cycle is left without the TYPE_CHECKING imports.
    """
    edges = list(edges)
    runtime = [frozenset(c) for c in _components(e for e in edges if e.kind != "type")]
    found = []
    for component in map(frozenset, _components(edges)):
        found.append((component, not any(r <= component for r in runtime)))
    return sorted(found, key=lambda item: sorted(item[0]))


def _components(edges: Iterable[Edge]) -> Iterator[set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.source != edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
            graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0

    def visit(node: str) -> Iterator[set[str]]:  # Tarjan's algorithm
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                yield from visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                yield component

    for node in sorted(graph):
        if node not in index:
            yield from visit(node)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom | ast.Call, Kind]]:
    """Import statements (and ``import_module("...")`` calls) with where they run."""

    def walk(node: ast.AST, kind: Kind) -> Iterator[tuple[ast.Import | ast.ImportFrom | ast.Call, Kind]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, kind
            elif isinstance(child, ast.Call) and _imported_by_call(child) is not None:
                yield child, "function" if kind == "top" else kind
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    yield from walk_stmt(stmt, "type")
                for stmt in child.orelse:
                    yield from walk_stmt(stmt, kind)
                continue
            inner: Kind = kind
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and kind == "top":
                inner = "function"
            yield from walk(child, inner)

    def walk_stmt(
        stmt: ast.stmt, kind: Kind
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom | ast.Call, Kind]]:
        wrapper = ast.Module(body=[stmt], type_ignores=[])
        yield from walk(wrapper, kind)

    yield from walk(tree, "top")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_by_call(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in ("import_module", "__import__") and call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _targets(
    node: ast.Import | ast.ImportFrom | ast.Call, source: str, is_package: bool, modules: set[str]
) -> list[str]:
    """The modules a statement imports: ``from a.b import c`` is ``a.b.c`` when that is a module."""
    if isinstance(node, ast.Call):
        name = _imported_by_call(node)
        return [name] if name else []
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = source if is_package else source.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    out = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        out.append(candidate if candidate in modules else base)
    return sorted(set(out))
