"""The library's public surface, and its promise never to load the CLI's dependencies."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import bulkops


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert bulkops.__all__ == sorted(bulkops.__all__)
    for name in bulkops.__all__:
        assert getattr(bulkops, name) is not None, name
    assert callable(bulkops.export)
    assert callable(bulkops.load)
    assert callable(bulkops.purge)


def test_importing_the_library_loads_neither_click_nor_rich() -> None:
    # Every module of the library (the whole tree except bulkops.cli), in a fresh interpreter so that
    # modules other tests imported do not hide an import.
    modules = sorted(
        info.name
        for info in pkgutil.walk_packages(bulkops.__path__, "bulkops.")
        if info.name != "bulkops.cli"
        and not info.name.startswith("bulkops.cli.")
        and info.name != "bulkops.__main__"
    )
    assert "bulkops.jobs.export" in modules
    assert "bulkops.server.app" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import bulkops\n"
        "bulkops.ServerConfig\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
