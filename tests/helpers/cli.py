"""Running the installed ``bulkops`` executable in tests, and files for it to work on.

The executable is the one installed next to the running interpreter (``.venv/bin/bulkops`` in a
checkout), so the CLI tests exercise the console script exactly as users run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = ["API_KEY", "Cli", "bulkops_executable", "slow_list_profile", "wait_for_progress", "write_jsonl"]

API_KEY = "cli-test-key-7f3a9c"  # the tests grep every output for it


def bulkops_executable() -> str:
    found = shutil.which("bulkops", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(f"no bulkops console script next to {sys.executable}; pip install -e '.[cli]'")
    return found


@dataclass
class Cli:
    """Runs ``bulkops`` with the server's controller host and key in the environment."""

    controller: str
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PINECONE_") and k != "XDG_STATE_HOME"}
        env.update(
            PINECONE_API_KEY=API_KEY,
            PINECONE_CONTROLLER_HOST=self.controller,
            XDG_STATE_HOME=str(self.home / "state"),
            COLUMNS="200",
        )
        env.update(extra)
        return env

    def run(
        self,
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [bulkops_executable(), *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=env if env is not None else self.env(),
            timeout=timeout,
            cwd=self.home,
        )
        assert API_KEY not in result.stdout, "the API key leaked"
        assert API_KEY not in result.stderr, "the API key leaked"
        return result

    def ok(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, f"bulkops {' '.join(args)} -> {result.returncode}\n{result.stderr}"
        return result

    def on_terminal(self, answer: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run with stdin on a pseudo-terminal (so the CLI asks) and type ``answer``; (exit code, stderr)."""
        controller, terminal = os.openpty()
        try:
            proc = subprocess.Popen(
                [bulkops_executable(), *args],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env if env is not None else self.env(),
                cwd=self.home,
            )
            os.write(controller, answer.encode() + b"\n")
            _, stderr = proc.communicate(timeout=60)
        finally:
            os.close(controller)
            os.close(terminal)
        assert API_KEY not in stderr, "the API key leaked"
        return proc.returncode, stderr

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """``bulkops ARGS`` in the background (stdout and stderr piped)."""
        return subprocess.Popen(
            [bulkops_executable(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(**env),
            cwd=self.home,
        )

    def json(self, *args: str, **kwargs: object) -> Any:
        return orjson.loads(self.ok("--json", *args, **kwargs).stdout)

    def http(self, url: str) -> Any:
        """Read the server directly (no subprocess): fast checks of what a command changed."""
        headers = {"Api-Key": API_KEY, "X-Pinecone-Api-Version": "2025-10"}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
            return orjson.loads(answer.read())

    def host_of(self, index: str) -> str:
        return str(self.http(f"{self.controller}/indexes/{index}")["host"])

    def count(self, index: str, namespace: str) -> int:
        """Records in ``namespace`` of ``index`` (0 if the namespace does not exist)."""
        rows = self.http(self.host_of(index) + "/namespaces")["namespaces"]
        return sum(int(r["record_count"]) for r in rows if r["name"] == namespace)


def write_jsonl(path: Path, ids: Sequence[str], *, dimension: int = 4, tag: str = "t") -> Path:
    """An import file: one Pinecone vector JSON per line."""
    with path.open("wb") as handle:
        for n, record_id in enumerate(ids):
            doc = {
                "id": record_id,
                "values": [float((n + k) % 7) / 7 + 0.5 for k in range(dimension)],
                "metadata": {"n": n, "tag": tag},
            }
            handle.write(orjson.dumps(doc) + b"\n")
    return path


def slow_list_profile(directory: Path, list_rate: float) -> Path:
    """A limit profile (a JSON file in ``directory``) that holds list to ``list_rate`` requests/s, so a
    job lasts long enough to be interrupted."""
    path = directory / f"slow-{list_rate}.json"
    rows = [{"operation": "list", "scope": "index", "rate": list_rate}]
    path.write_bytes(orjson.dumps({"base": "default", "limits": rows}))
    return path


def wait_for_progress(checkpoint: Path, proc: subprocess.Popen[str], counter: str = "deleted") -> None:
    """Until the running job has committed some ``counter`` in its checkpoint (read-only, safe while it
    runs)."""
    from bulkops.engine.checkpoint import Checkpoint
    from bulkops.errors import CheckpointError

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the job ended before it could be interrupted"
        if checkpoint.exists():
            try:
                if Checkpoint.inspect(checkpoint).counters.get(counter, 0) > 0:
                    return
            except CheckpointError:  # the file is being created: try again
                pass
        time.sleep(0.05)
    raise AssertionError(f"the job counted no {counter} within 60 s")
