"""The fast IDs-file reader gives exactly what the line reader gives: the same IDs, the same errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkops.engine.sources import read_ids_file
from bulkops.errors import UsageError
from bulkops.jobs import ids as ids_input
from bulkops.jobs.ids import prepare_ids

_PIECES = st.sampled_from(
    ["a", "b#1", " ", "\t", "\r", "\n", "\n\n", "\x00", "é", "\x1f", "x" * 600, "z" * 512]
)


def _slow(path: Path) -> tuple[list[str] | None, str | None]:
    try:
        return list(read_ids_file(path)), None
    except UsageError as exc:
        return None, str(exc)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=30), st.integers(min_value=1, max_value=64))
def test_fast_reader_matches_the_line_reader(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], block: int
) -> None:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    path.write_bytes("".join(pieces).encode("utf-8"))
    expected, error = _slow(path)
    saved = ids_input._BLOCK_BYTES
    ids_input._BLOCK_BYTES = block  # tiny blocks: lines cut across reads
    try:
        if error is None and expected:
            prepared = prepare_ids(path)
            assert list(prepared.open()) == expected
            assert prepared.count == len(expected)
            digest = hashlib.sha256(b"".join(i.encode() + b"\n" for i in expected))
            assert prepared.digest == digest.hexdigest()
        elif error is None:  # no IDs at all: refused, there is nothing to do
            with pytest.raises(UsageError, match="holds no IDs"):
                prepare_ids(path)
        else:
            with pytest.raises(UsageError) as caught:
                prepare_ids(path)
            assert str(caught.value) == f"ids: {error}"  # the line reader's words, about ids=
            assert caught.value.param == "ids"
    finally:
        ids_input._BLOCK_BYTES = saved


def test_a_plain_file_is_read_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"acme#{i:06d}\n" for i in range(5000)))
    blocks = list(ids_input._id_blocks(path))
    assert sum(len(b) for b in blocks) == 5000
    assert len(blocks) == 1  # one 1 MiB read, one split: not 5000 validated lines
