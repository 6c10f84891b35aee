"""Bad input: one clear line on stderr, nothing on stdout, the documented exit code, nothing changed on
the server or on disk (a job refused before it does anything leaves no file, not even a checkpoint)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bulkops.engine.checkpoint import Checkpoint
from tests.helpers.cli import Cli, write_jsonl
from tests.storage.s3server import S3Bucket, s3, s3_server

__all__ = ["s3", "s3_server"]

pytestmark = pytest.mark.integration  # runs the bulkops executable in subprocesses

USAGE, ERROR = 2, 1


@dataclass
class World:
    cli: Cli
    work: Path
    export_checkpoint: Path
    files: dict[str, Path] = field(default_factory=dict)

    def snapshot(self) -> Any:
        """Everything a bad command could have changed on the server (read over plain HTTP: fast)."""
        indexes = self.cli.http(self.cli.controller + "/indexes")["indexes"]
        host = next(i["host"] for i in indexes if i["name"] == "bad")
        namespaces = self.cli.http(host + "/namespaces")["namespaces"]
        ids = self.cli.http(host + "/vectors/list?namespace=ns&limit=1000")["vectors"]
        return (
            sorted((i["name"], i["deletion_protection"], str(i.get("tags"))) for i in indexes),
            sorted((n["name"], n["record_count"]) for n in namespaces),
            [v["id"] for v in ids],
            len(self.cli.http(self.cli.controller + "/backups?limit=100")["data"]),
        )

    def args(self, argv: list[str]) -> list[str]:
        """``argv`` with every ``{name}`` replaced by the file or value of that name."""
        values = {
            **{name: str(path) for name, path in self.files.items()},
            "work": str(self.work),
            "export_ckpt": str(self.export_checkpoint),
            "big_in": self.files["big_in"].read_text(),  # a 60 KB filter, as the argument itself
        }
        args = []
        for arg in argv:
            for name, value in values.items():
                arg = arg.replace("{" + name + "}", value)
            args.append(arg)
        return args

    def disk(self) -> dict[str, bytes]:
        """Every file a command could have left or changed: the work folder and the state directory."""
        found: dict[str, bytes] = {}
        for root in (self.work, self.cli.home):
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    found[str(path)] = path.read_bytes()
        return found


@pytest.fixture(scope="module")
def world(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("bad")
    cli.ok("indexes", "create", "bad", "--dimension", "4", "-q")
    data = write_jsonl(work / "data.jsonl", [f"{t}#{n:03d}" for t in "ab" for n in range(100)])
    cli.ok("import", "--index", "bad", "-n", "ns", "--input", str(data), "-q")
    cli.ok("indexes", "create", "locked", "--dimension", "4", "--deletion-protection", "enabled", "-q")
    cli.ok("indexes", "create", "dim8", "--dimension", "8", "-q")
    export_to = work / "a.jsonl"
    cli.ok("export", "--index", "bad", "-n", "ns", "--prefix", "a#", "--output", str(export_to), "-q")
    long_ids = work / "long-ids.txt"
    long_ids.write_text("a#001\n" + "x" * 513 + "\n")
    ids = work / "ids.txt"
    ids.write_text("a#001\n")
    spaced_ids = work / "spaced-ids.txt"
    spaced_ids.write_text("a#001\n a#002\n")
    other_db = work / "app.db"
    with sqlite3.connect(other_db) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    big_in = work / "big-in.json"
    big_in.write_bytes(orjson.dumps({"n": {"$in": list(range(10_001))}}))
    host = cli.host_of("bad")
    return World(
        cli,
        work,
        Path(str(export_to) + ".checkpoint"),
        {
            "long_ids": long_ids,
            "data": data,
            "ids": ids,
            "spaced_ids": spaced_ids,
            "other_db": other_db,
            **_parquet_inputs(work),
            "big_in": big_in,
            "bare_host": Path(host.removeprefix("http://")),
        },
    )


def _parquet_inputs(work: Path) -> dict[str, Path]:
    """Parquet inputs an import must refuse whole (issue 12: tracebacks, or 0 records and exit 0)."""
    inputs: dict[str, Path] = {}
    for name, table in (
        ("no_id", pa.table({"values": [[0.1, 0.2, 0.3, 0.4]]})),
        ("string_values", pa.table({"id": ["x"], "values": [["a", "b", "c", "d"]]})),
    ):
        (work / f"{name}.parquet" / "ns").mkdir(parents=True)
        pq.write_table(table, work / f"{name}.parquet" / "ns" / "part-00000.parquet")
        inputs[name] = work / f"{name}.parquet"
    inputs["one_file"] = work / "one.parquet"
    pq.write_table(pa.table({"id": ["x"], "values": [[0.1, 0.2, 0.3, 0.4]]}), inputs["one_file"])
    inputs["text_parquet"] = work / "text.parquet"
    inputs["text_parquet"].write_text("id,values\nx,1\n")
    inputs["empty_parquet"] = work / "empty.parquet"
    inputs["empty_parquet"].mkdir()
    return inputs


# (case id, argv, extra env, exit code, words the one-line message must contain)
CASES: list[tuple[str, list[str], dict[str, str], int, list[str]]] = [
    (
        "wrong key",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--yes"],
        {"PINECONE_API_KEY": "not-the-key"},
        ERROR,
        ["api key", "--api-key"],
    ),
    ("no key", ["indexes", "list"], {"PINECONE_API_KEY": ""}, USAGE, ["no api key", "PINECONE_API_KEY"]),
    (
        "unknown index",
        ["purge", "--index", "nope", "-n", "ns", "--prefix", "a#", "--yes"],
        {},
        ERROR,
        ["not found", "nope"],
    ),
    (
        "malformed filter JSON",
        ["purge", "--index", "bad", "-n", "ns", "--filter", '{"tag": ', "--yes"],
        {},
        USAGE,
        ["--filter", "not valid JSON"],
    ),
    (
        "prefix with spaces",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a #", "--yes"],
        {},
        USAGE,
        ["--prefix", "spaces"],
    ),
    (
        "ID over 512 characters",
        ["purge", "--index", "bad", "-n", "ns", "--ids-file", "{long_ids}", "--yes"],
        {},
        USAGE,
        ["line 2", "513", "512"],
    ),
    (
        "missing IDs file",
        ["purge", "--index", "bad", "-n", "ns", "--ids-file", "{work}/no-such-ids.txt", "--yes"],
        {},
        USAGE,
        ["--ids-file", "no such file"],
    ),
    (
        "checkpoint of another job",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "b#", "--yes", "--checkpoint", "{export_ckpt}"],
        {},
        USAGE,
        ["different job", "export"],
    ),
    (
        "unwritable output path",
        ["export", "--index", "bad", "-n", "ns", "--output", "/proc/bulkops-test.jsonl"],
        {},
        USAGE,
        ["--output", "cannot write"],
    ),
    (
        "output with an unknown format",
        ["export", "--index", "bad", "-n", "ns", "--output", "{work}/out.csv"],
        {},
        USAGE,
        [".jsonl or .parquet"],
    ),
    (
        "deleting a protected index",
        ["indexes", "delete", "locked", "--yes"],
        {},
        ERROR,
        ["deletion protection"],
    ),
    (
        "destructive without a terminal or --yes",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#"],
        {},
        USAGE,
        ["--yes", "no terminal"],
    ),
    (
        "two selectors",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--all", "--yes"],
        {},
        USAGE,
        ["exactly one of"],
    ),
    (
        "more than --max-delete",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--max-delete", "10", "--yes"],
        {},
        USAGE,
        ["--max-delete 10", "nothing was deleted"],
    ),
    ("no index", ["export", "--output", "{work}/x.jsonl"], {}, USAGE, ["--index NAME or --host URL"]),
    ("unknown limit profile", ["--limits", "turbo", "indexes", "list"], {}, USAGE, ["turbo"]),
    (
        "missing import input",
        ["import", "--index", "bad", "--input", "{work}/nothing.jsonl"],
        {},
        USAGE,
        ["no such"],
    ),
    ("unknown option", ["purge", "--bogus"], {}, USAGE, ["--bogus"]),
    (
        "status of a file that is no checkpoint",
        ["status", "{long_ids}"],
        {},
        USAGE,
        ["not a bulkops checkpoint"],
    ),
    ("resume of a missing checkpoint", ["resume", "{work}/nothing.ckpt"], {}, USAGE, ["no such file"]),
    ("configure without a change", ["indexes", "configure", "bad"], {}, USAGE, ["nothing to change"]),
    # Issue 12: repeated options all apply or are refused, never one silently dropped.
    (
        "repeated --output",
        ["export", "--index", "bad", "-n", "ns", "-o", "{work}/1.jsonl", "-o", "{work}/2.jsonl"],
        {},
        USAGE,
        ["--output", "2 times"],
    ),
    (
        "repeated --ids-file",
        ["purge", "--index", "bad", "-n", "ns", "--ids-file", "{ids}", "--ids-file", "{ids}", "--yes"],
        {},
        USAGE,
        ["--ids-file", "once"],
    ),
    (
        "repeated --filter",
        ["purge", "--index", "bad", "-n", "ns", "--filter", '{"n": 1}', "--filter", '{"n": 2}', "--yes"],
        {},
        USAGE,
        ["--filter", "once"],
    ),
    (
        "repeated --index",
        ["export", "--index", "bad", "--index", "locked", "-o", "{work}/r.jsonl"],
        {},
        USAGE,
        ["--index", "once"],
    ),
    (
        "two namespaces for an import",
        ["import", "--index", "bad", "-n", "a", "-n", "b", "--input", "{data}"],
        {},
        USAGE,
        ["--namespace", "2 times"],
    ),
    # Issue 12: typos are errors, not successes.
    (
        "a namespace that does not exist",
        ["purge", "--index", "bad", "-n", "nosuchns", "--prefix", "a#", "--yes"],
        {},
        USAGE,
        ["--namespace nosuchns", "does not exist", "--allow-missing"],
    ),
    (
        "an export of an empty default namespace",
        ["export", "--index", "bad", "--output", "{work}/default.jsonl"],
        {},
        USAGE,
        ["default namespace", "empty", "--all-namespaces"],
    ),
    (
        "a filter with an unsupported operator",
        [
            "purge",
            "--index",
            "bad",
            "-n",
            "ns",
            "--filter",
            '{"tag": {"$regex": "a.*"}}',
            "--backup-first",
            "--yes",
            "--checkpoint",
            "{work}/filter.ckpt",
        ],
        {},
        USAGE,
        ["--filter", "$regex", "not supported"],
    ),
    (
        "a text file as the checkpoint",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "b#", "--yes", "--checkpoint", "{long_ids}"],
        {},
        USAGE,
        ["not a bulkops checkpoint", "untouched"],
    ),
    (
        "another program's database as the checkpoint",
        ["export", "--index", "bad", "-n", "ns", "-o", "{work}/db.jsonl", "--checkpoint", "{other_db}"],
        {},
        USAGE,
        ["not a bulkops checkpoint"],
    ),
    (
        "a verify delay that is not a number",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--verify-delay", "nan", "--yes"],
        {},
        USAGE,
        ["--verify-delay nan", "finite"],
    ),
    (
        "an infinite verify delay",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--verify-delay", "inf", "--yes"],
        {},
        USAGE,
        ["--verify-delay inf", "finite"],
    ),
    (
        "a negative --max-delete",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--max-delete", "-1", "--yes"],
        {},
        USAGE,
        ["--max-delete -1"],
    ),
    # Issue 11: copy and the purge's safety copy refuse bad input before anything is sent or created.
    ("copy without a destination", ["copy", "--index", "bad", "-n", "ns"], {}, USAGE, ["--to-index"]),
    (
        "copy to an index and a host",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "x", "--to-host", "http://127.0.0.1:9"],
        {},
        USAGE,
        ["--to-index", "--to-host", "not both"],
    ),
    (
        "repeated --to-index",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "x", "--to-index", "y"],
        {},
        USAGE,
        ["--to-index", "2 times"],
    ),
    (
        "a namespace map without =",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "x", "--namespace-map", "ns"],
        {},
        USAGE,
        ["--namespace-map ns", "SRC=DST"],
    ),
    (
        "a namespace map of a namespace the copy does not read",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "x", "--namespace-map", "other=x"],
        {},
        USAGE,
        ["--namespace-map other=x", "does not read"],
    ),
    (
        "a copy of a namespace that does not exist",
        ["copy", "--index", "bad", "-n", "nosuchns", "--to-index", "x"],
        {},
        USAGE,
        ["--namespace nosuchns", "does not exist", "--allow-missing"],
    ),
    (
        "a copy into an index of another dimension",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "dim8"],
        {},
        USAGE,
        ["dimension 8", "dimension 4", "nothing was sent"],
    ),
    (
        "a copy of a namespace onto itself",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "bad"],
        {},
        USAGE,
        ["onto itself", "--namespace-map"],
    ),
    (
        "a copy into a missing index with --no-create",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "absent", "--no-create"],
        {},
        USAGE,
        ["absent", "does not exist", "not to create"],
    ),
    (
        "a negative --verify-sample",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "x", "--verify-sample", "-1"],
        {},
        USAGE,
        ["--verify-sample -1"],
    ),
    (
        "an infinite copy --verify-delay",
        ["copy", "--index", "bad", "-n", "ns", "--to-index", "x", "--verify-delay", "inf"],
        {},
        USAGE,
        ["--verify-delay inf", "finite"],
    ),
    (
        "an --export-first of an unknown format",
        ["purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--export-first", "{work}/s.csv", "--yes"],
        {},
        USAGE,
        ["--export-first", ".jsonl or .parquet"],
    ),
    (
        "repeated --export-first",
        [
            *("purge", "--index", "bad", "-n", "ns", "--prefix", "a#", "--yes"),
            *("--export-first", "{work}/1.jsonl", "--export-first", "{work}/2.jsonl"),
        ],
        {},
        USAGE,
        ["--export-first", "once"],
    ),
    (
        "an IDs file line with a leading space",
        ["purge", "--index", "bad", "-n", "ns", "--ids-file", "{spaced_ids}", "--yes"],
        {},
        USAGE,
        ["--ids-file", "line 2", "whitespace"],
    ),
    # Issue 12: no tracebacks, no "unexpected ...", no silent success with 0 records.
    (
        "a Parquet input without an id column",
        ["import", "--index", "bad", "-n", "p", "--input", "{no_id}"],
        {},
        USAGE,
        ["part-00000.parquet", "no 'id' column", "nothing was imported"],
    ),
    (
        "a Parquet input whose values are strings",
        ["import", "--index", "bad", "-n", "p", "--input", "{string_values}"],
        {},
        USAGE,
        ["'values' column", "not a list of floats"],
    ),
    (
        "a single Parquet file as the input",
        ["import", "--index", "bad", "-n", "p", "--input", "{one_file}"],
        {},
        USAGE,
        ["one.parquet is a single file", "a directory of NAMESPACE/part-*.parquet"],
    ),
    (
        "a text file named .parquet",
        ["import", "--index", "bad", "-n", "p", "--input", "{text_parquet}"],
        {},
        USAGE,
        ["text.parquet is a single file"],
    ),
    (
        "a .parquet directory without parts",
        ["import", "--index", "bad", "-n", "p", "--input", "{empty_parquet}"],
        {},
        USAGE,
        ["holds no Parquet part files"],
    ),
    (
        "an $in over Pinecone's 10,000 values (the server refused it inside a task group)",
        [
            "purge",
            "--index",
            "bad",
            "-n",
            "ns",
            "--filter",
            "{big_in}",
            "--yes",
            "--checkpoint",
            "{work}/in.ckpt",
        ],
        {},
        USAGE,
        ["--filter", "10,001 values", "at most 10,000"],
    ),
    (
        "an API key with a non-ASCII character",
        ["export", "--host", "http://{bare_host}", "-n", "ns", "-o", "{work}/k.jsonl"],
        {"PINECONE_API_KEY": "cli-tëst-key-7f3a9c"},
        USAGE,
        ["non-ASCII character at position 6", "--api-key"],
    ),
    (
        "an API key with a control character",
        ["indexes", "list"],
        {"PINECONE_API_KEY": "cli-test-key\n7f3a9c"},
        USAGE,
        ["control character at position 13", "--api-key"],
    ),
    (
        "a host without a scheme that speaks plain HTTP",
        ["namespaces", "list", "--host", "{bare_host}"],
        {},
        USAGE,
        ["does not speak TLS", "use http://"],
    ),
    ("a negative --stats-interval", ["--stats-interval", "-1", "indexes", "list"], {}, USAGE, ["-1"]),
    ("a --stats-interval of nan", ["indexes", "list", "--stats-interval", "nan"], {}, USAGE, ["nan"]),
    ("an unknown --log-format", ["--log-format", "xml", "indexes", "list"], {}, USAGE, ["xml"]),
    (
        "prune without saying what",
        ["checkpoints", "prune", "{work}", "--yes"],
        {},
        USAGE,
        ["--finished", "--older-than"],
    ),
    ("prune with a bad age", ["checkpoints", "prune", "{work}", "--older-than", "3x"], {}, USAGE, ["3x"]),
    (
        "list of a missing directory",
        ["checkpoints", "list", "{work}/nowhere"],
        {},
        USAGE,
        ["no such directory"],
    ),
]


@pytest.mark.parametrize(("argv", "env", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly(
    world: World, argv: list[str], env: dict[str, str], code: int, words: list[str]
) -> None:
    cli = world.cli
    before = world.snapshot()
    disk = world.disk()
    args = world.args(argv)
    result = cli.run(*args, env=cli.env(**env))

    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert message.startswith("error: ")
    for word in words:
        assert word.lower() in message.lower(), message
    assert "Traceback" not in result.stderr
    assert world.snapshot() == before
    assert world.disk() == disk  # no checkpoint, lock, output or probe left; the other job's untouched
    assert Checkpoint.inspect(world.export_checkpoint).finished


# (case, the parameter the error is about, its option)
JSON_CASES = [
    ("a namespace that does not exist", "namespace", "--namespace"),
    ("more than --max-delete", "max_delete", "--max-delete"),
    ("a negative --stats-interval", "stats_interval", "--stats-interval"),
    ("an API key with a non-ASCII character", "api_key", "--api-key"),
    ("wrong key", None, None),
    ("unknown option", None, None),
]


@pytest.mark.parametrize(("case", "param", "option"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_with_json_the_error_is_also_a_document_on_stdout(
    world: World, case: str, param: str | None, option: str | None
) -> None:
    """Issue 12: with --json, a script reads the error from stdout as it reads results."""
    _, argv, env, code, _ = next(c for c in CASES if c[0] == case)
    before = world.snapshot()
    result = world.cli.run("--json", *world.args(argv), env=world.cli.env(**env))
    assert result.returncode == code, result.stderr
    (line,) = result.stderr.strip().splitlines()
    doc = orjson.loads(result.stdout)
    assert set(doc) == {"error"}
    error = doc["error"]
    assert error["exit_code"] == code
    assert f"error: {error['message']}" == line
    assert (error["param"], error["option"]) == (param, option)
    assert isinstance(error["type"], str)
    assert world.snapshot() == before


# Issue 14: object storage and Pinecone's bulk import. The bucket is a fresh one on the S3-compatible
# test server; every case must leave it, the server and the disk as they were, and start no import.
OBJECT_STORE_CASES: list[tuple[str, list[str], dict[str, str], int, list[str]]] = [
    (
        "export to an unknown bucket",
        ["export", "--index", "bad", "-n", "ns", "-o", "s3://no-such-bucket-here/x.parquet"],
        {},
        USAGE,
        ["bucket 'no-such-bucket-here' does not exist", "AWS_ENDPOINT_URL"],
    ),
    (
        "import from an unknown bucket",
        ["import", "--index", "bad", "--input", "s3://no-such-bucket-here/x.parquet"],
        {},
        USAGE,
        ["bucket 'no-such-bucket-here' does not exist"],
    ),
    (
        "export with no credentials",
        ["export", "--index", "bad", "-n", "ns", "-o", "{bucket}/x.parquet"],
        {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
        USAGE,
        ["no credentials found", "AWS_ACCESS_KEY_ID"],
    ),
    (
        "a bucket's root as the output",
        ["export", "--index", "bad", "-n", "ns", "-o", "{bucket}", "--for-bulk-import"],
        {},
        USAGE,
        ["names a bucket", "add a name"],
    ),
    (
        "a directory that is not a bulk-import layout",
        ["import", "--index", "bad", "--via-bulk-import", "{bucket}/loose/"],
        {},
        USAGE,
        ["not in a namespace directory", "__default__"],
    ),
    (
        "a bulk import of a half-written export",
        ["import", "--index", "bad", "--via-bulk-import", "{bucket}/half/"],
        {},
        USAGE,
        ["unfinished export", "bulkops resume"],
    ),
    (
        "an import of a half-written export",
        ["import", "--index", "bad", "--input", "{bucket}/half"],
        {},
        USAGE,
        ["unfinished export", "bulkops resume"],
    ),
    (
        "an export in a bucket without its manifest",
        ["import", "--index", "bad", "--input", "{bucket}/nomanifest.parquet"],
        {},
        USAGE,
        ["no manifest", "not a finished bulkops export"],
    ),
    (
        "a bulk import into namespaces that already exist",
        ["import", "--index", "bad", "--via-bulk-import", "{bucket}/taken/"],
        {},
        USAGE,
        ["'ns' already exist", "new namespaces"],
    ),
    (
        "a namespace a bulk import cannot hold",
        ["export", "--index", "bad", "-n", "a b", "-o", "{bucket}/x/", "--for-bulk-import"],
        {},
        USAGE,
        ["cannot be a bulk-import directory", "a%20b"],
    ),
    (
        "an upsert's --on-error with --via-bulk-import",
        ["import", "--index", "bad", "--via-bulk-import", "{bucket}/taken/", "--on-error", "stop"],
        {},
        USAGE,
        ["--on-error stop", "continue or abort"],
    ),
    (
        "--input and --via-bulk-import together",
        ["import", "--index", "bad", "--input", "{data}", "--via-bulk-import", "{bucket}/taken/"],
        {},
        USAGE,
        ["--input", "--via-bulk-import", "not both"],
    ),
]


@pytest.mark.parametrize(
    ("argv", "env", "code", "words"),
    [c[1:] for c in OBJECT_STORE_CASES],
    ids=[c[0] for c in OBJECT_STORE_CASES],
)
def test_bad_object_storage_input_is_refused_cleanly(
    world: World, s3: S3Bucket, argv: list[str], env: dict[str, str], code: int, words: list[str]
) -> None:
    cli = world.cli
    s3.put("loose/file.parquet", b"x")
    s3.put("half/ns/part-00000.parquet", b"x")
    s3.put("half.manifest.json", orjson.dumps({"format": "bulkops-export-unfinished/1", "checkpoint": "/c"}))
    s3.put("nomanifest.parquet/ns/part-00000.parquet", b"x")
    s3.put("taken/ns/part-00000.parquet", b"x")
    bucket_before = {key: s3.get(key) for key in s3.keys("")}
    before, disk = world.snapshot(), world.disk()
    host = cli.host_of("bad")
    values = {"bucket": s3.uri(""), "data": str(world.files["data"])}
    args = [arg.replace("{bucket}", values["bucket"]).replace("{data}", values["data"]) for arg in argv]
    result = cli.run(*args, env=cli.env(**env))

    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in result.stderr
    assert s3.server.secret not in result.stderr
    assert world.snapshot() == before
    assert world.disk() == disk
    assert {key: s3.get(key) for key in s3.keys("")} == bucket_before
    assert cli.http(host + "/bulk/imports")["data"] == []
