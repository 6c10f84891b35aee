"""The whole test suite: the fast loop by default (``integration`` tests only when asked), and
third-party test tools made to work with the pinned libraries.

aioresponses 0.7.9 predates aiohttp 3.14's required ``stream_writer`` argument of ClientResponse, so
every test that mocks aiohttp with it (not only the client's) needs mocked responses to get a
stand-in writer. Remove the shim once aioresponses builds responses the 3.14 way.
"""

from __future__ import annotations

from typing import Any

import aioresponses.core
import pytest
from aiohttp import ClientResponse


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


class _FinishedWriter:
    output_size = 0


class _CompatClientResponse(ClientResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _FinishedWriter())
        super().__init__(*args, **kwargs)


if "stream_writer" in ClientResponse.__init__.__code__.co_varnames:
    aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[misc]
