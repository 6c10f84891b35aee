"""The CLI's jobs run with the cycle collector quieted (7 % of a 1536-dimension export's CPU otherwise)."""

from __future__ import annotations

import gc

from bulkops.cli.runner import _quiet_garbage_collector


def test_a_cli_job_freezes_what_exists_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        _quiet_garbage_collector()
        assert gc.get_threshold()[0] >= 10_000
        assert gc.get_freeze_count() > 0  # the imported modules are no longer rescanned
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
