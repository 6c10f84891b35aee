"""Object storage costs nothing until it is used: ``import bulkops.storage`` and starting the local
server load no pyarrow (each checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["bulkops.storage", "bulkops.server.app"])
def test_importing_loads_no_pyarrow(module: str) -> None:
    code = f"import sys, {module}\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'pyarrow'))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
