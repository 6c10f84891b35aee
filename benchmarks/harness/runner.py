"""Start one contender in a fresh Python process and collect what it measured about itself.

The child is ``python -m benchmarks.harness.worker`` with the spec in a file; its stderr goes to a log
file beside it (shown when a run fails). A child that overruns its budget by a wide margin is killed
and recorded as failed, so one stuck run cannot hang the whole suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from benchmarks.harness.spec import WorkerSpec

__all__ = ["REPO_ROOT", "run_worker"]

REPO_ROOT = Path(__file__).resolve().parents[2]
_GRACE_S = 90.0


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("PINECONE_DEBUG_CURL", None)  # the SDK would log every request as curl
    env.pop("PINECONE_API_KEY", None)  # every contender is given its key explicitly
    env["PINECONE_GRPC_SCHEME"] = "http"  # the SDK's gRPC client dials the local server's plaintext h2
    env["PYTHONHASHSEED"] = "0"
    return env


def run_worker(spec: WorkerSpec, run_dir: Path) -> dict[str, Any]:
    """Run ``spec`` in a fresh process; return its result dict (``error`` set if it failed)."""
    spec_path = run_dir / f"{spec.contender}.spec.json"
    result_path = run_dir / f"{spec.contender}.result.json"
    log_path = run_dir / f"{spec.contender}.stderr.log"
    spec_path.write_bytes(spec.to_bytes())
    result_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.harness.worker", str(spec_path), str(result_path)]
    with log_path.open("wb") as log:
        try:
            subprocess.run(
                command,
                cwd=REPO_ROOT,
                env=child_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                timeout=spec.budget_s + _GRACE_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"worker did not finish within budget + {_GRACE_S:.0f} s; killed"}
    if not result_path.exists():
        tail = log_path.read_text(errors="replace")[-800:]
        return {"error": f"worker exited without a result: {tail}"}
    result: dict[str, Any] = orjson.loads(result_path.read_bytes())
    if result.get("error"):
        result["log_tail"] = log_path.read_text(errors="replace")[-1500:]
    return result
