"""The CLI's pure pieces, in-process: input checks, option parsing, error lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from bulkops.cli.common import parse_filter, parse_pairs, wire_namespace
from bulkops.cli.inputs import check_ids_file, check_output_path, check_prefix
from bulkops.cli.output import Output, exit_code_for, one_line
from bulkops.errors import (
    AuthenticationError,
    CheckpointMismatchError,
    DeletionProtectedError,
    UsageError,
    VerificationError,
)


@pytest.mark.parametrize("prefix", ["doc#", "a", "x" * 512, "tenant-42/"])
def test_valid_prefixes_pass(prefix: str) -> None:
    check_prefix(prefix)


@pytest.mark.parametrize(
    ("prefix", "why"),
    [("", "must not be empty"), ("a b", "spaces"), ("a\tb", "spaces"), ("é", "ASCII"), ("x" * 513, "512")],
)
def test_bad_prefixes_say_why(prefix: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        check_prefix(prefix)


def test_ids_file_is_counted_and_checked_line_by_line(tmp_path: Path) -> None:
    good = tmp_path / "ids.txt"
    good.write_bytes(b"a\r\nb\n\n  \nc")
    assert check_ids_file(str(good)) == 3
    for content, why in (
        (b"a\n" + b"y" * 513 + b"\n", "line 2: record ID is 513 characters"),
        (b"a\nb\x00c\n", "line 2: .*NUL"),
        ("a\nnaïve\n".encode(), "line 2: not ASCII"),
        (b"\n\n", "holds no IDs"),
    ):
        bad = tmp_path / "bad.txt"
        bad.write_bytes(content)
        with pytest.raises(UsageError, match=why):
            check_ids_file(str(bad))
    with pytest.raises(UsageError, match="no such file"):
        check_ids_file(str(tmp_path / "missing.txt"))
    with pytest.raises(UsageError, match="not a regular file"):
        check_ids_file(str(tmp_path))


def test_output_path_format_and_writability(tmp_path: Path) -> None:
    assert check_output_path(str(tmp_path / "a.jsonl")) == "jsonl"
    assert check_output_path(str(tmp_path / "a.parquet")) == "parquet"
    assert list(tmp_path.iterdir()) == []  # the write probe leaves nothing behind
    with pytest.raises(UsageError, match=r"\.jsonl or \.parquet"):
        check_output_path(str(tmp_path / "a.csv"))
    with pytest.raises(UsageError, match="does not exist"):
        check_output_path(str(tmp_path / "no" / "a.jsonl"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        check_output_path(str(tmp_path / "file" / "a.jsonl"))
    with pytest.raises(UsageError, match="cannot write"):
        check_output_path("/proc/a.jsonl")


def test_option_parsers() -> None:
    assert parse_filter('{"genre": {"$in": ["a", "b"]}}') == {"genre": {"$in": ["a", "b"]}}
    for text, why in (("{", "not valid JSON"), ("[1]", "JSON object"), ("{}", "non-empty")):
        with pytest.raises(UsageError, match=why):
            parse_filter(text)
    assert parse_pairs(["a=1", "b=x=y", "c="], "--tag") == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_pairs(["novalue"], "--tag")
    assert wire_namespace(None) == ""
    assert wire_namespace("__default__") == ""
    assert wire_namespace("ns") == "ns"


def test_exit_codes_follow_the_documented_table() -> None:
    assert exit_code_for(UsageError("x")) == 2
    assert exit_code_for(CheckpointMismatchError("x")) == 2
    assert exit_code_for(VerificationError("x")) == 3
    assert exit_code_for(AuthenticationError(401, "Invalid API key.")) == 1
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert exit_code_for(click.BadParameter("x")) == 2
    assert exit_code_for(RuntimeError("x")) == 1


def test_error_lines_are_one_line_redacted_and_hinted(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "pcsk_secret_key_123456"
    out = Output(secret=secret)
    code = out.error(AuthenticationError(401, f"bad key {secret}\nsecond line"))
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert secret not in err
    assert "--api-key" in err
    out.error(DeletionProtectedError(403, "Deletion protection is enabled for this index."))
    assert "--deletion-protection disabled" in capsys.readouterr().err
    assert one_line(" a \n b\t c ") == "a b c"
    assert Output(secret="local").redact("~/.local/state") == "~/.local/state"  # placeholders are not keys
