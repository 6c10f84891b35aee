"""The layering of ``docs/architecture.md``, executable: no upward or sideways import, no import cycle.

The layers are listed once, in ``tests/unit/layering.py``; the map in ``docs/architecture.md`` repeats
them and ``test_the_architecture_map_lists_the_same_layers`` keeps the two equal.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.unit.layering import (
    FORBIDDEN_TOP_LEVEL,
    LAYERS,
    SIDE,
    TOOLS,
    Edge,
    cycles,
    layer_of,
    layering_violations,
    scan,
)

ROOT = Path(__file__).resolve().parents[2]

# Known violations, each being fixed on another branch. The checker finds them (the test below fails
# if it no longer does), and the lead deletes an entry when the branch fixing it merges: an entry whose
# violation is gone fails `test_every_known_exception_is_still_found`, so none can go stale.
KNOWN_EDGES: dict[tuple[str, str], str] = {}
KNOWN_CYCLES: dict[frozenset[str], str] = {}


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return scan(ROOT)


def _describe_cycle(component: frozenset[str], type_only: bool, edges: list[Edge]) -> str:
    inside = [str(e) for e in edges if e.source in component and e.target in component]
    kind = "type-only cycle" if type_only else "cycle"
    return f"{kind} of {len(component)} modules:\n    " + "\n    ".join(inside)


def test_no_import_goes_up_or_sideways(edges: list[Edge]) -> None:
    found = [e for e in layering_violations(edges) if (e.source, e.target) not in KNOWN_EDGES]
    assert not found, "imports against the layers (docs/architecture.md, Layers):\n" + "\n".join(
        f"  {e}  [{layer_of(e.source)} may not import {layer_of(e.target)}]" for e in found
    )


def test_no_import_cycles(edges: list[Edge]) -> None:
    found = [(c, t) for c, t in cycles(edges) if c not in KNOWN_CYCLES]
    assert not found, "\n".join(_describe_cycle(c, t, edges) for c, t in found)


def test_every_known_exception_is_still_found(edges: list[Edge]) -> None:
    violations = {(e.source, e.target) for e in layering_violations(edges)}
    components = {c for c, _ in cycles(edges)}
    fixed = [f"{edge} ({why})" for edge, why in KNOWN_EDGES.items() if edge not in violations]
    fixed += [f"{sorted(c)} ({why})" for c, why in KNOWN_CYCLES.items() if c not in components]
    assert not fixed, "fixed: delete these entries from KNOWN_EDGES / KNOWN_CYCLES:\n" + "\n".join(fixed)


def test_type_checking_imports_are_reported_apart(edges: list[Edge]) -> None:
    # A type-only cycle is told apart in test_the_checker_finds_each_kind_of_violation_and_cycle.
    assert any(e.kind == "type" for e in edges)
    assert any(e.kind == "function" for e in edges)


def test_every_package_and_module_has_a_layer() -> None:
    named = {name for layer in LAYERS for name in layer} | set(SIDE) | TOOLS
    present = {
        path.stem if path.is_file() else path.name
        for path in (ROOT / "bulkops").iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").exists())
    }
    assert present - named == set(), "give each new top-level module or package a layer in LAYERS"
    assert named - present == set(), "LAYERS names something bulkops no longer has"


def test_the_architecture_map_lists_the_same_layers() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|--")]
    table: dict[str, set[str]] = {}
    for row in rows[1:]:  # the first row is the header
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        table[cells[0]] = set(re.findall(r"`([^`]+)`", cells[1]))
    stack = [table[str(level)] for level in range(len(LAYERS))]
    assert stack == [set(layer) for layer in LAYERS]
    assert table["beside"] == set(SIDE)
    assert table["tools"] == set(TOOLS)
    assert set(table) == {*map(str, range(len(LAYERS))), "beside", "tools"}


# -- the checker itself ------------------------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    return tmp_path


def test_the_checker_finds_each_kind_of_violation_and_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "bulkops/__init__.py": "",
            "bulkops/errors.py": """
                def parse():
                    from bulkops.limits import profiles  # upward, inside a function
            """,
            "bulkops/limits/__init__.py": "",
            "bulkops/limits/profiles.py": "from bulkops.errors import parse\n",
            "bulkops/engine/__init__.py": "from bulkops.sinks import base  # sideways\n",
            "bulkops/sinks/__init__.py": "",
            "bulkops/sinks/base.py": "import benchmarks.harness  # never from the library\n",
            "bulkops/jobs/__init__.py": "",
            "bulkops/jobs/a.py": """
                from typing import TYPE_CHECKING
                from bulkops.jobs import b
                if TYPE_CHECKING:
                    from bulkops.testing import FakeClock  # nothing in the library imports testing
            """,
            "bulkops/jobs/b.py": """
                import typing
                if typing.TYPE_CHECKING:
                    from bulkops.jobs.a import A
            """,
            "bulkops/server/__init__.py": """
                import importlib
                def load():
                    return importlib.import_module("bulkops.api.client")  # server may not use the client
            """,
            "bulkops/api/__init__.py": "",
            "bulkops/api/client.py": "from .. import errors  # relative, downward: fine\n",
            "bulkops/testing.py": "import bulkops.server  # testing may import anything\n",
        },
    )
    edges = scan(root)
    bad = {(str(e).split(" ", 1)[1]) for e in layering_violations(edges)}
    assert bad == {
        "bulkops.errors -> bulkops.limits.profiles (inside a function)",
        "bulkops.engine -> bulkops.sinks.base",
        "bulkops.sinks.base -> benchmarks.harness",
        "bulkops.jobs.a -> bulkops.testing (TYPE_CHECKING only)",
        "bulkops.server -> bulkops.api.client (inside a function)",
    }
    assert cycles(edges) == [
        (frozenset({"bulkops.errors", "bulkops.limits.profiles"}), False),
        (frozenset({"bulkops.jobs.a", "bulkops.jobs.b"}), True),
    ]


def test_an_upward_import_and_a_cycle_injected_into_the_real_tree_fail(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "bulkops", tmp_path / "bulkops", ignore=shutil.ignore_patterns("__pycache__"))
    models = tmp_path / "bulkops" / "models.py"
    models.write_text(models.read_text() + "\n\ndef _late():\n    from bulkops.api import client\n")
    edges = scan(tmp_path)
    new = [e for e in layering_violations(edges) if (e.source, e.target) not in KNOWN_EDGES]
    assert [str(e) for e in new] == [
        f"bulkops/models.py:{len(models.read_text().splitlines())} bulkops.models -> bulkops.api.client"
        " (inside a function)"
    ]
    new_cycles = [c for c, _ in cycles(edges) if c not in KNOWN_CYCLES]
    assert len(new_cycles) == 1
    assert {"bulkops.models", "bulkops.api.client"} <= new_cycles[0]


def test_the_forbidden_names_are_never_layers() -> None:
    assert not FORBIDDEN_TOP_LEVEL & {name for layer in LAYERS for name in layer}
