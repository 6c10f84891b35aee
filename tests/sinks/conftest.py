from __future__ import annotations

import pytest

from bulkops.models import Record
from tests.helpers.records import make_records


@pytest.fixture
def records() -> list[Record]:
    return make_records(250)
