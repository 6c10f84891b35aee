"""The CLI's pure pieces, in-process: the library's validators as the CLI words them, option parsing,
error lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from bulkops.cli.common import parse_filter, parse_pairs
from bulkops.cli.options import OPTION_FOR, single, spell
from bulkops.cli.output import Output, exit_code_for, one_line
from bulkops.errors import (
    AuthenticationError,
    CheckpointMismatchError,
    DeletionProtectedError,
    Param,
    UsageError,
    VerificationError,
)
from bulkops.jobs.export.spec import build_export, output_format
from bulkops.jobs.ids import prepare_ids
from bulkops.jobs.namespaces import normalize
from bulkops.jobs.selection import validate_filter, validate_prefixes
from bulkops.jobs.target import TargetSpec

HOST = TargetSpec(host="http://h")


def _cli_words(exc: pytest.ExceptionInfo[UsageError]) -> str:
    return exc.value.render(spell)


@pytest.mark.parametrize("prefix", ["doc#", "a", "x" * 512, "tenant-42/"])
def test_valid_prefixes_pass(prefix: str) -> None:
    assert validate_prefixes(prefix) == (prefix,)


@pytest.mark.parametrize(
    ("prefix", "why"),
    [("", "whole namespace"), ("a b", "spaces"), ("a\tb", "spaces"), ("é", "ASCII"), ("x" * 513, "512")],
)
def test_bad_prefixes_say_why_in_both_spellings(prefix: str, why: str) -> None:
    with pytest.raises(UsageError, match=why) as refused:
        validate_prefixes(prefix)
    assert refused.value.param == "prefix"
    assert str(refused.value).startswith("prefix=")
    assert _cli_words(refused).startswith("--prefix")


def test_several_prefixes_are_sorted_and_covered_ones_dropped() -> None:
    assert validate_prefixes(["b#", "a#1", "a#", "b#"]) == ("a#", "b#")


def test_ids_file_is_read_by_the_librarys_reader(tmp_path: Path) -> None:
    good = tmp_path / "ids.txt"
    good.write_bytes(b"a\r\nb\n\n  \nc")
    assert prepare_ids(good).count == 3
    for content, why in (
        (b"a\n" + b"y" * 513 + b"\n", "line 2: record ID is 513 characters"),
        (b"a\nb\x00c\n", "line 2: .*NUL"),
        ("a\nnaïve\n".encode(), "line 2: .*non-ASCII"),
        (b"a\n def\n", "line 2: .*whitespace"),  # the CLI's own pre-check once let this through
        (b"\n\n", "holds no IDs"),
    ):
        bad = tmp_path / "bad.txt"
        bad.write_bytes(content)
        with pytest.raises(UsageError, match=why) as refused:
            prepare_ids(bad)
        assert _cli_words(refused).startswith("--ids-file")
    with pytest.raises(UsageError, match="no such file"):
        prepare_ids(tmp_path / "missing.txt")
    with pytest.raises(UsageError, match="not a regular file"):
        prepare_ids(tmp_path)


def test_output_path_format_and_writability(tmp_path: Path) -> None:
    assert output_format(tmp_path / "a.jsonl", strict=True) == "jsonl"
    assert output_format(tmp_path / "a.parquet", strict=True) == "parquet"
    assert output_format(tmp_path / "a.txt") == "jsonl"  # the library takes any other name as JSONL
    with pytest.raises(UsageError, match=r"\.jsonl or \.parquet") as refused:
        output_format(tmp_path / "a.csv", strict=True)
    assert _cli_words(refused).startswith("--output")
    with pytest.raises(UsageError, match="does not exist"):
        build_export(output=tmp_path / "no" / "a.jsonl", target=HOST)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        build_export(output=tmp_path / "file" / "a.jsonl", target=HOST)
    with pytest.raises(UsageError, match="cannot write"):
        build_export(output="/proc/a.jsonl", target=HOST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the write probe leaves nothing behind


def test_filters_are_checked_before_anything_is_sent() -> None:
    assert validate_filter({"genre": {"$in": ["a", "b"]}, "$or": [{"n": {"$gte": 2}}, {"x": True}]})
    for bad, why in (
        ({}, "non-empty"),
        ([1], "non-empty"),
        ({"tag": {"$regex": "a.*"}}, "'\\$regex' on 'tag' is not supported"),
        ({"$nor": [{"a": 1}]}, "unknown operator"),
        ({"n": {"$gt": "1"}}, "needs a number"),
        ({"n": {"$in": "a"}}, "needs an array"),
        ({"$and": []}, "non-empty array"),
    ):
        with pytest.raises(UsageError, match=why) as refused:
            validate_filter(bad)
        assert _cli_words(refused).startswith("--filter")


def test_option_parsers() -> None:
    assert parse_filter('{"genre": {"$in": ["a", "b"]}}') == {"genre": {"$in": ["a", "b"]}}
    with pytest.raises(UsageError, match="not valid JSON"):
        parse_filter("{")
    assert parse_pairs(["a=1", "b=x=y", "c="], "--tag") == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_pairs(["novalue"], "--tag")
    assert normalize("__default__") == ""
    assert normalize("ns") == "ns"
    assert single(("x",), "--output") == "x"
    assert single((), "--output") is None
    with pytest.raises(UsageError, match="--output was given 2 times"):
        single(("a", "b"), "--output")


def test_parameters_are_spelled_as_options_from_one_table() -> None:
    assert spell(Param("max_delete", 10)) == "--max-delete 10"
    assert spell(Param("max_delete")) == "--max-delete"
    assert spell(Param("overwrite", True)) == "--overwrite"
    assert spell(Param("on_error", "skip")) == "--on-error skip"
    assert spell(Param("prefix", "a b")) == "--prefix 'a b'"
    assert spell(Param("ids")) == "--ids-file"
    assert spell(Param("batch_size", 5)) == "batch_size=5"  # no option: the library's spelling
    error = UsageError("more than ", Param("max_delete", 10), " records; raise ", Param("max_delete"))
    assert str(error) == "more than max_delete=10 records; raise max_delete"
    assert error.render(spell) == "more than --max-delete 10 records; raise --max-delete"
    assert error.param == "max_delete"
    assert all(option.startswith("--") for option in OPTION_FOR.values())


def test_exit_codes_follow_the_documented_table() -> None:
    assert exit_code_for(UsageError("x")) == 2
    assert exit_code_for(CheckpointMismatchError("x")) == 2
    assert exit_code_for(VerificationError("x", report=None)) == 3
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


# --- issue 12: names users know, scripts and containers --------------------------------------------------

# the bulk-import mode of `bulkops import`, whose options read as a mode of the command
_BULK_IMPORT_NAMES = {"--via-bulk-import": "uri", "--no-layout-check": "check_layout"}
_CLI_ONLY = {"--yes", "--json", "--quiet", "--verbose", "--log-format", "--stats-interval", "--help"}


@pytest.mark.parametrize(
    ("command", "library"), [("purge", "purge"), ("export", "export"), ("load", "load"), ("copy", "copy")]
)
def test_every_option_of_a_job_command_is_a_library_argument_of_the_same_name(
    command: str, library: str
) -> None:
    """``--ids-file`` is ``ids_file=``, ``--all`` is ``all=``, ``--max-delete`` is ``max_delete=``...
    (``--no-create`` is ``create=False``)."""
    import inspect

    import bulkops
    from bulkops.cli import jobs

    cli_command = getattr(jobs, command)
    arguments = set(inspect.signature(getattr(bulkops, library)).parameters)
    options = {param.opts[0] for param in cli_command.params if isinstance(param, click.Option)}
    if command == "load":  # `import --via-bulk-import URI` is bulkops.bulk_import(uri=...)
        arguments |= set(inspect.signature(bulkops.bulk_import).parameters)
        options -= set(_BULK_IMPORT_NAMES)
        assert set(_BULK_IMPORT_NAMES.values()) <= arguments
    missing = {
        option
        for option in options - _CLI_ONLY
        if option.lstrip("-").removeprefix("no-").replace("-", "_") not in arguments
    }
    assert not missing, f"options without a library argument of the same name: {sorted(missing)}"


def test_a_group_of_errors_is_shown_as_its_first_error(capsys: pytest.CaptureFixture[str]) -> None:
    from bulkops.cli.output import first_error

    inner = UsageError("the real reason")
    group = ExceptionGroup("unhandled errors in a TaskGroup", [ExceptionGroup("nested", [inner])])
    assert first_error(group) is inner
    assert Output().error(group) == 2
    assert capsys.readouterr().err == "error: the real reason\n"


def test_the_json_error_names_the_parameter_and_its_option() -> None:
    out = Output(json_mode=True)
    doc = out.error_document(UsageError("more than ", Param("max_delete", 10), " records"))
    assert doc == {
        "message": "more than --max-delete 10 records",
        "type": "UsageError",
        "exit_code": 2,
        "param": "max_delete",
        "option": "--max-delete",
    }


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800)]
)
def test_prune_ages(text: str, seconds: float) -> None:
    from bulkops.cli.checkpoint_files import parse_age

    assert parse_age(text) == seconds


def test_elapsed_keeps_counting_and_eta_follows_this_runs_rate() -> None:
    """Issue 12: the bar froze its elapsed time (and said ETA 0) from the moment done reached the total,
    though a purge then verifies for seconds; and a resumed job's first figure is not this run's work."""
    from bulkops.cli.progress import JobProgress
    from bulkops.testing import FakeClock

    clock = FakeClock()
    view = JobProgress(Output(), "purge", total=10_000, clock=clock)
    with view:
        view.update(done=4_000)  # a resumed job: 4,000 done by earlier runs
        assert view.eta() is None  # no rate of this run yet
        clock.jump(2)
        view.update(done=6_000)  # 2,000 in 2 s
        assert view.rate() == pytest.approx(1_000)
        assert view.eta() == pytest.approx(4)
        clock.jump(4)
        view.update(done=10_000, phase="verifying")
        assert view.eta() == 0
        clock.jump(5)  # verifying
        assert view.elapsed() == pytest.approx(11)
    no_total = JobProgress(Output(), "export", clock=clock)
    no_total.update(done=5)
    assert no_total.eta() is None
