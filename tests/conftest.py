"""The whole test suite: the fast loop by default (``integration`` tests only when asked).

(Client tests answer through the library's own ``MockTransport`` / ``MockGrpcTransport`` doubles, so no
third-party HTTP mock needs patching.)
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection looks at the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``pytest`` with no paths and no ``-m`` is the fast loop: ``integration`` tests are left out.

    ``pytest -m integration`` runs them, ``pytest tests/cli`` runs everything it names. A test marked
    ``slow`` (the older name) is an ``integration`` test.
    """
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.integration)
    if config.option.markexpr or config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return
    heavy = [item for item in items if item.get_closest_marker("integration") is not None]
    if heavy:
        config.hook.pytest_deselected(items=heavy)
        items[:] = [item for item in items if item.get_closest_marker("integration") is None]
