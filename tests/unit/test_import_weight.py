"""Importing a piece of bulkops loads that piece: the package is lazy, the server does not pull in the
client or the jobs, and the console script without the [cli] extra says how to install it.

Each check runs in a fresh interpreter, so modules other tests imported cannot hide an import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bulkops

LIBRARY_LAYERS_ABOVE_SERVER = ("api", "jobs", "engine", "sinks")


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def _bulkops_modules(names: str) -> list[str]:
    return sorted(name for name in names.split() if name == "bulkops" or name.startswith("bulkops."))


def test_import_bulkops_errors_loads_no_aiohttp_and_nothing_else_of_bulkops() -> None:
    result = _run("import bulkops.errors", "-X", "importtime")
    assert result.returncode == 0, result.stderr
    # -X importtime prints one line per module imported: "import time: self | cumulative | name".
    loaded = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "bulkops.errors" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("aiohttp", "numpy", "anyio")}
    assert {name for name in loaded if name.startswith("bulkops")} == {"bulkops", "bulkops.errors"}


def test_import_bulkops_imports_no_submodule_until_a_name_is_used() -> None:
    code = (
        "import sys, bulkops\n"
        "print(' '.join(sys.modules))\n"
        "bulkops.UsageError\n"
        "print(' '.join(sys.modules))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.splitlines()
    assert _bulkops_modules(before) == ["bulkops"]
    assert _bulkops_modules(after) == ["bulkops", "bulkops.errors"]


def test_every_public_name_resolves_from_its_table_entry() -> None:
    table = bulkops._LAZY
    assert sorted([*table, "__version__"]) == bulkops.__all__
    for name, module in table.items():
        assert getattr(bulkops, name) is getattr(sys.modules[module], name), name
    assert bulkops.__version__ == "0.1.0"
    assert set(bulkops.__all__) <= set(dir(bulkops))


def test_bulkops_serve_loads_the_server_and_not_the_client_or_the_jobs() -> None:
    # What `bulkops serve` imports: the CLI group, the command's module (found through the group's
    # lazy table), and the server it starts.
    code = (
        "import sys, click\n"
        "from bulkops.cli.main import cli\n"
        "assert cli.get_command(click.Context(cli), 'serve') is not None\n"
        "import bulkops.server.app\n"
        "print(' '.join(sys.modules))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    loaded = _bulkops_modules(result.stdout)
    assert "bulkops.cli.serve" in loaded
    assert "bulkops.server.app" in loaded
    above = [
        name for name in loaded if name.split(".")[1:2] and name.split(".")[1] in LIBRARY_LAYERS_ABOVE_SERVER
    ]
    assert above == []


def test_console_script_without_the_cli_extra_says_how_to_install_it(tmp_path: Path) -> None:
    # A `click` that cannot be imported, first on the path: what a base install (no [cli]) looks like.
    shadow = tmp_path / "click"
    shadow.mkdir()
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'click'\", name='click')\n"
    )
    script = Path(sys.executable).with_name("bulkops")
    assert script.exists(), "the console script is installed next to the interpreter"
    result = subprocess.run(
        [str(script), "indexes", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(script.parent)},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: the bulkops command needs the [cli] extra (click is not installed): "
        "pip install 'bulkops[cli]'"
    ]
