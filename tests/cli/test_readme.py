"""README drift (issue 12): every ```console block in the README is what running its commands prints.

The blocks run in order against a local server in a temp dir (tests/cli/readme.py says how, and what is
normalized: times, rates, ports, UUIDs...). After a change of output, regenerate them with
``python -m tests.cli.readme --write`` and read the diff.
"""

from __future__ import annotations

import difflib

import pytest

from tests.cli.readme import README, blocks, normalize, run_all


def test_every_console_block_is_a_transcript_the_runner_can_run() -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    assert len(found) >= 3
    for block in found:
        assert block.steps, "a console block holds $ commands"
        assert all(step.command.strip() for step in block.steps)


@pytest.mark.integration  # runs the bulkops executable and a server in other processes
def test_every_console_block_is_what_running_it_prints() -> None:
    drift: list[str] = []
    for block, ran in run_all(README.read_text(encoding="utf-8")):
        interrupted = any(step.interrupt for step in block.steps)
        for step, got in ran:
            expected = normalize(step.output, after_interrupt=interrupted)
            actual = normalize(got, after_interrupt=interrupted)
            if expected != actual:
                diff = difflib.unified_diff(expected, actual, "README", "actual", lineterm="")
                drift.append(f"$ {step.command}\n" + "\n".join(diff))
    assert not drift, "README drift (python -m tests.cli.readme --write regenerates it):\n\n" + "\n\n".join(
        drift
    )
