"""The contenders: bulkops's jobs and the official SDK's documented loops (sync, and asyncio).

Each module exposes ``run(spec) -> Outcome`` and is imported by the worker *before* the clock starts,
so import time is not measured for anyone. Every contender stops at ``spec.budget_s``; the harness
counts what it achieved on the server (or in the output file), not what it says it did.
"""
