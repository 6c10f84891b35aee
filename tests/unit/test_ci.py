"""CI runs exactly the README's test command, and that command runs every test (both markers' sides)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readme_test_command_which_runs_everything() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    command = readme[next(i for i, line in enumerate(readme) if line.startswith("# 2. The tests")) + 1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == command
    steps = [step.strip() for step in command.split("&&")]
    assert ".venv/bin/pytest" in steps  # the default loop (deselects integration)
    assert ".venv/bin/pytest -m integration -n 0" in steps  # and the rest, one process at a time
