"""The README's ```console blocks, run for real: what ``test_readme.py`` checks and what regenerates them.

Every ```console block is a transcript: ``$ command`` lines, each followed by the output it printed. The
blocks run in order in one temporary directory (shown as ``/tmp/tour``) against the servers their
``bulkops serve ... &`` lines start (each on a free port, shown as its ``--port`` or 5080), with the
files the README mentions but does not make (:data:`FIXTURES`) and each ```python block saved where a
later ``$ python NAME.py`` runs it. A ``^C`` line interrupts the command before it once its checkpoint
holds progress.

Outputs are compared after :func:`normalize`: whitespace and table rules collapsed, and what differs
from run to run replaced by placeholders — times, rates, percentages, UUIDs, index ports, checkpoint
file names, request counts and the other figures listed in :data:`VOLATILE_ROWS`. Counts that matter
(records upserted, listed, deleted, left) are compared as they are.

Regenerate the README's outputs after a change of format with ``python -m tests.cli.readme --write``
(from the checkout; about a minute).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SHOWN_DIR = "/tmp/tour"  # the working directory as the README shows it
SHOWN_PORT = "5080"  # the control plane's port as the README shows it (a `bulkops serve` without --port)
SHOWN_STATE = "~/.local/state"  # $XDG_STATE_HOME as the README shows it
# An index's port (5081, ... in the README; any free port here). The servers' control ports, mapped
# back to the README's by Session.shown, are compared as they are.
_INDEX_PORT = re.compile(r"127\.0\.0\.1:(?!(?:5080|6080|7080)\b)\d{4,5}\b")

_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_PROGRESS = re.compile(r"^\S+Z INFO bulkops\.cli: progress:")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# Rows whose values depend on timing and scheduling, not on what the job did.
VOLATILE_ROWS = ("requests", "429s / retries", "list chains done", "batches in flight", "counters", "elapsed")


def fixtures() -> dict[str, bytes]:
    """The files the README's commands read: ``records.jsonl`` (20,000 ``acme#`` and 10,000
    ``globex#`` records, dimension 4) and ``slow-list.json`` (list at 20 requests/s, so there is time
    to press Ctrl-C)."""
    lines = [
        orjson.dumps({"id": f"{tenant}#doc{n:05d}", "values": [0.1, 0.2, 0.3, 0.4], "metadata": {"n": n}})
        for tenant, count in (("acme", 20_000), ("globex", 10_000))
        for n in range(count)
    ]
    slow = {
        "base": "default",
        "limits": [{"operation": "list", "scope": "index", "unit": "requests", "rate": 20}],
    }
    return {"records.jsonl": b"\n".join(lines) + b"\n", "slow-list.json": orjson.dumps(slow)}


@dataclass
class Step:
    command: str  # as the README shows it
    output: list[str] = field(default_factory=list)
    interrupt: bool = False  # a ^C line follows the command


@dataclass
class Block:
    start: int  # offsets of the block's body in the README
    end: int
    steps: list[Step]
    python_before: str | None  # the nearest ```python block above it


def blocks(text: str) -> list[Block]:
    """Every ```console block of ``text``, parsed into steps."""
    found: list[Block] = []
    python: str | None = None
    for match in _BLOCK.finditer(text):
        language, body = match.group(1), match.group(2)
        if language == "python":
            python = body
        if language != "console":
            continue
        steps: list[Step] = []
        for line in body.splitlines():
            if steps and steps[-1].command.endswith("\\") and not steps[-1].output:
                steps[-1].command += "\n" + line  # a command continued on the next line
            elif line.startswith("$ "):
                steps.append(Step(line[2:]))
            elif line.strip() == "^C" and steps:
                steps[-1].interrupt = True
            elif steps:
                steps[-1].output.append(line)
        found.append(Block(match.start(2), match.end(2), steps, python))
    return found


def normalize(lines: list[str], *, after_interrupt: bool = False) -> list[str]:
    """What must match: run-to-run differences replaced by placeholders (see the module docstring).
    ``after_interrupt``: a job resumed after Ctrl-C counts again the batches that were in flight, so its
    ``deleted`` is volatile too (the records left are then checked by the block's next command)."""
    rows = (*VOLATILE_ROWS, "deleted") if after_interrupt else VOLATILE_ROWS
    out: list[str] = []
    for raw in lines:
        line = " ".join(raw.split())
        if not line or _PROGRESS.match(line):
            continue  # a progress line is what a bar is on a terminal: it depends on timing
        line = re.sub(r"([━─])\1+", r"\1", line)
        line = _UUID.sub("<uuid>", line)
        line = re.sub(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", line)
        line = _INDEX_PORT.sub("127.0.0.1:<port>", line)
        line = re.sub(r"([a-z]+)-\d{8}-\d{6}-\d+\.checkpoint", r"\1-<stamp>.checkpoint", line)
        line = re.sub(r"[\d,]+(\.\d+)?/s\b", "<n>/s", line)
        line = re.sub(r"\b\d+(\.\d+)? s\b", "<t> s", line)
        line = re.sub(r"\b\d+%", "<n>%", line)
        for row in rows:
            if line.startswith(f"{row} │"):
                label, _, value = line.partition("│")
                line = label + "│" + re.sub(r"\d+", "<n>", value)
        out.append(line)
    return out


@dataclass
class Session:
    """One run of the README's blocks: a directory, a server, the environment its commands see."""

    work: Path
    env: dict[str, str]
    ports: dict[str, str] = field(default_factory=dict)  # a server's port as shown -> this run's
    servers: list[subprocess.Popen[str]] = field(default_factory=list)
    uuids: dict[str, str] = field(default_factory=dict)  # README's UUID -> this run's

    def shown(self, text: str) -> str:
        """Actual output as the README shows it (this run's directory, port and state directory)."""
        text = text.replace(str(self.work / ".state"), SHOWN_STATE).replace(str(self.work), SHOWN_DIR)
        for shown, real in self.ports.items():
            text = text.replace(f"127.0.0.1:{real}", f"127.0.0.1:{shown}")
        return text

    def displayed(self, command: str) -> str:
        """A README command with the IDs this run made (a backup's UUID) in place of the README's."""
        for shown, real in self.uuids.items():
            command = command.replace(shown, real)
        return command

    def actual(self, command: str) -> str:
        """A README command as this run must send it."""
        command = self.displayed(command).replace(SHOWN_DIR, str(self.work))
        for shown, real in self.ports.items():
            command = command.replace(f"127.0.0.1:{shown}", f"127.0.0.1:{real}")
        return command

    def learn_uuids(self, expected: list[str], got: list[str]) -> None:
        """Pair the README's UUIDs with this run's, in order, for later commands that quote them."""
        for shown, real in zip(
            _UUID.findall("\n".join(expected)), _UUID.findall("\n".join(got)), strict=False
        ):
            self.uuids.setdefault(shown, real)

    def run(self, step: Step, python: str | None) -> list[str]:
        """Run one step; its output (stdout and stderr, in order) as the README would show it."""
        command = self.actual(step.command)
        words = shlex.split(command.replace("\\\n", " "), comments=True)
        if words[:2] == ["bulkops", "serve"] and "&" in words:
            return self._serve([w for w in words[2:] if w != "&"])
        if words[:1] == ["export"]:
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = value
            return []
        if words[:1] == ["python"] and python is not None:
            (self.work / words[1]).write_text(python)
        proc = subprocess.Popen(
            ["bash", "-c", command], cwd=self.work, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            # A shell started in the background ignores SIGINT; a user's terminal does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        if step.interrupt:
            self._interrupt_when_under_way(proc, words)
        output, _ = proc.communicate(timeout=300)
        return [line.rstrip() for line in self.shown(output).splitlines()]

    def _serve(self, args: list[str]) -> list[str]:
        """``bulkops serve ARGS &``: started on a free port, shown as the README's (--port N, else 5080)."""
        shown = args[args.index("--port") + 1] if "--port" in args else SHOWN_PORT
        if "--port" in args:
            del args[args.index("--port") : args.index("--port") + 2]
        server = subprocess.Popen(
            ["bulkops", "serve", *args, "--port", "0"], cwd=self.work, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.servers.append(server)
        assert server.stdout is not None
        first = server.stdout.readline()
        found = re.search(r"127\.0\.0\.1:(\d+)", first)
        assert found, f"bulkops serve said {first!r}"
        self.ports[shown] = found.group(1)
        return []

    def _interrupt_when_under_way(self, proc: subprocess.Popen[str], words: list[str]) -> None:
        """Ctrl-C once the job's checkpoint holds progress (or after 2 s if it names none)."""
        checkpoint = self.work / words[words.index("--checkpoint") + 1] if "--checkpoint" in words else None
        deadline = time.monotonic() + 120
        while checkpoint is not None and time.monotonic() < deadline and proc.poll() is None:
            try:
                if checkpoint.exists() and any(Checkpoint.inspect(checkpoint).counters.values()):
                    break
            except CheckpointError:  # being created
                pass
            time.sleep(0.1)
        else:
            time.sleep(2)
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C reaches the terminal's foreground group

    def close(self) -> None:
        for server in self.servers:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def session() -> Iterator[Session]:
    """A fresh directory with the fixtures, the venv's ``bulkops`` first on PATH, no Pinecone settings."""
    with tempfile.TemporaryDirectory(prefix="bulkops-readme-") as tmp:
        work = Path(tmp).resolve()
        for name, data in fixtures().items():
            (work / name).write_bytes(data)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PINECONE_", "BULKOPS_"))}
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            XDG_STATE_HOME=str(work / ".state"),
            COLUMNS="200",
        )
        running = Session(work, env)
        try:
            yield running
        finally:
            running.close()


def run_all(text: str) -> list[tuple[Block, list[tuple[Step, list[str]]]]]:
    """Run every console block of ``text`` in order; each step with its actual output."""
    results = []
    with session() as running:
        for block in blocks(text):
            ran = []
            for step in block.steps:
                got = running.run(step, block.python_before)
                shown = Step(running.displayed(step.command), step.output, step.interrupt)
                running.learn_uuids(step.output, got)
                ran.append((shown, got))
            results.append((block, ran))
    return results


def rewrite(text: str) -> str:
    """``text`` with every console block's outputs replaced by a fresh run's."""
    pieces: list[str] = []
    cursor = 0
    for block, ran in run_all(text):
        body: list[str] = []
        for step, got in ran:
            body.append(f"$ {step.command}")
            if step.interrupt:
                body.append("^C")
            body.extend(line for line in got if not _PROGRESS.match(line))
        pieces += [text[cursor : block.start], "\n".join(body) + "\n"]
        cursor = block.end
    return "".join(pieces) + text[cursor:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md with the fresh outputs")
    options = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    fresh = rewrite(text)
    if options.write:
        README.write_text(fresh, encoding="utf-8")
    else:
        sys.stdout.write(fresh)


if __name__ == "__main__":
    main()
