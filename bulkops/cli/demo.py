"""``bulkops demo``: the whole tour on a local server in a temp dir — no account, no arguments.

Steps: start ``bulkops serve`` (default limits) on a temp dir; create an index; seed ~200k records over
three namespaces; export one namespace; purge a tenant's prefix with a backup first; verify the rest is
intact; restore the backup into a new index; print a summary of rates against the documented limits.

Why the server runs as a child process (``ServerProcess``) and not in this event loop: on a small
machine the client and the server would otherwise share one core, and the demo would measure their
contention rather than bulkops. Why seeding goes through ``bulkops.load`` (HTTP upserts of 1000-record
batches) and not the server's direct seed helper: it is as fast as the documented upsert limit allows
here (a few seconds), and it shows the import path too. The direct helper only exists in-process.

Sizes: list-bound jobs (export by listing, purge by prefix) are capped by the default profile at
200 list requests/s × 100 IDs = 20,000 IDs/s, so the exported namespace and the purged prefix are
sized at 40–50k records: a few seconds each, and long enough to show a rate close to the bound.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import orjson

from bulkops.cli.context import Settings, global_options, pass_settings, run_async
from bulkops.cli.output import Output
from bulkops.cli.progress import JobProgress
from bulkops.clock import SYSTEM_CLOCK
from bulkops.errors import VerificationError
from bulkops.jobs.namespaces import label

if TYPE_CHECKING:  # annotations only: the demo depends on the jobs' entry points, not their modules
    from bulkops.jobs import LoadProgress, PurgeProgress

__all__ = ["demo"]

DIMENSION = 16
INDEX = "demo"
RESTORED = "demo-restored"
API_KEY = "demo-local-key"  # the local server's key; not a Pinecone key


@dataclass(frozen=True)
class Layout:
    """What the demo seeds: namespace → [(ID prefix, count)]."""

    namespaces: dict[str, list[tuple[str, int]]]
    export_namespace: str = "articles"
    purge_namespace: str = "tenants"
    purge_prefix: str = "globex#"

    @classmethod
    def scaled(cls, scale: float) -> Layout:
        def n(count: int) -> int:
            return max(10, int(count * scale))

        return cls(
            {
                "tenants": [("acme#", n(50_000)), ("globex#", n(50_000)), ("initech#", n(30_000))],
                "articles": [("article-", n(45_000))],
                "logs": [("log-", n(25_000))],
            }
        )

    @property
    def total(self) -> int:
        return sum(count for parts in self.namespaces.values() for _, count in parts)

    def count(self, namespace: str, prefix: str | None = None) -> int:
        return sum(c for p, c in self.namespaces[namespace] if prefix is None or p == prefix)


@dataclass
class Step:
    name: str
    records: int
    seconds: float
    bound: float | None = None  # records/s the documented limits allow for this step
    note: str = ""
    measured_rate: float | None = None  # when the job measured its own working phase

    @property
    def rate(self) -> float:
        if self.measured_rate is not None:
            return self.measured_rate
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def row(self) -> dict[str, Any]:
        ratio = f"{self.rate / self.bound:.0%}" if self.bound else ""
        return {
            "step": self.name,
            "records": f"{self.records:,}",
            "seconds": f"{self.seconds:.1f}",
            "rate/s": f"{self.rate:,.0f}" if self.records else "",
            "documented bound/s": f"{self.bound:,.0f}" if self.bound else "",
            "rate ÷ bound": ratio,
            "note": self.note,
        }


def _records(prefix: str, count: int, seed: int) -> Iterator[bytes]:
    """JSONL lines with deterministic vectors (float32-exact) and a little metadata."""
    rng = np.random.default_rng(seed)
    chunk = 10_000
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        values = rng.random((size, DIMENSION), dtype=np.float32).tolist()
        for offset, vector in enumerate(values):
            i = start + offset
            doc = {
                "id": f"{prefix}{i:07d}",
                "values": vector,
                "metadata": {"source": prefix.rstrip("#-"), "n": i, "lang": "en" if i % 3 else "fr"},
            }
            yield orjson.dumps(doc, option=orjson.OPT_APPEND_NEWLINE)


def _write_seed_files(layout: Layout, directory: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    seed = 1
    for namespace, parts in layout.namespaces.items():
        path = directory / f"seed-{namespace}.jsonl"
        with path.open("wb") as handle:
            for prefix, count in parts:
                seed += 1
                handle.writelines(_records(prefix, count, seed))
        files[namespace] = path
    return files


@click.command()
@click.option("--scale", type=click.FloatRange(min=0.001, max=10), default=1.0, hidden=True)
@global_options(with_env=False)
@pass_settings
def demo(settings: Settings, scale: float) -> None:
    """Seed, export, back up, purge, verify and restore on a local server (no account needed).

    Starts `bulkops serve` with Pinecone's default limits in a temp dir, runs every job on ~200k
    records and prints a summary of the rates achieved against the documented limits.
    """
    from bulkops.server.process import ServerProcess

    out = settings.out
    layout = Layout.scaled(scale)
    clock = SYSTEM_CLOCK
    started = clock.now()
    with tempfile.TemporaryDirectory(prefix="bulkops-demo-") as tmp:
        work = Path(tmp)
        out.info(
            f"[bold]bulkops demo[/bold]: local server in {work} (default limits), {layout.total:,} records"
        )
        with ServerProcess(
            ["--data-dir", str(work / "server"), "--api-key", API_KEY, "--limits", "default"]
        ) as server:
            out.info(f"server: {server.url}")
            settings.api_key = API_KEY
            settings.controller_host = server.url
            settings.limits = settings.limits or "default"
            steps, facts = run_async(lambda: _tour(settings, out, layout, work))
    total = clock.now() - started
    _summary(out, steps, facts, total)


async def _tour(
    settings: Settings, out: Output, layout: Layout, work: Path
) -> tuple[list[Step], dict[str, Any]]:
    import bulkops
    from bulkops.cli.common import open_client

    clock = SYSTEM_CLOCK
    steps: list[Step] = []
    facts: dict[str, Any] = {}

    async with open_client(settings) as client:
        control = client.control
        profile = client.config.limits
        list_bound = (profile.rate("list", "index") or 0) * 100 or None

        t = clock.now()
        await control.create_index(INDEX, dimension=DIMENSION, metric="cosine", tags={"purpose": "demo"})
        await control.wait_until_index_ready(INDEX, poll_interval=0.1)
        steps.append(Step("create index", 0, clock.now() - t, note=f"{INDEX}, dimension {DIMENSION}"))
        dp = await client.index(INDEX)

        # -- seed ------------------------------------------------------------------------------------
        t = clock.now()
        files = await asyncio.to_thread(_write_seed_files, layout, work)
        out.info(f"generated {layout.total:,} records in {clock.now() - t:.1f} s")
        t = clock.now()
        seeded = 0
        for namespace, path in files.items():
            with _bar(out, f"seed {namespace}", layout.count(namespace)) as view:
                report = await bulkops.load(
                    input=path,
                    index=INDEX,
                    dataplane=dp,
                    namespace=namespace,
                    checkpoint=work / f"seed-{namespace}.checkpoint",
                    limits=profile,
                    progress=_load_progress(view),
                )
            seeded += report.upserted
        seconds = clock.now() - t
        megabytes = sum(p.stat().st_size for p in files.values()) / 1e6
        upsert_bytes = profile.rate("upsert", "namespace", "bytes")
        steps.append(
            Step(
                "seed (bulkops import)",
                seeded,
                seconds,
                note=f"{megabytes / seconds:,.1f} MB/s; limit {upsert_bytes / 1e6:g} MB/s per namespace"
                if upsert_bytes
                else "",
            )
        )
        stats = await dp.describe_index_stats()
        facts["seeded"] = {label(ns): v.get("vectorCount") for ns, v in stats["namespaces"].items()}
        out.info(f"seeded: {facts['seeded']}")

        # -- export ----------------------------------------------------------------------------------
        ns = layout.export_namespace
        target = work / f"{ns}.jsonl"
        with _bar(out, f"export {ns}", layout.count(ns)) as view:
            export = await bulkops.export(
                output=target,
                index=INDEX,
                dataplane=dp,
                namespace=ns,
                limits=profile,
                progress=lambda p: view.update(done=p.exported),
            )
        lines = await asyncio.to_thread(_count_lines, target)
        steps.append(
            Step(
                f"export namespace {ns}",
                export.exported,
                export.elapsed,
                export.bound,
                note=f"{lines:,} lines in {target.name} (+ manifest)",
            )
        )
        facts["exported"] = export.exported

        # -- purge with a backup first ---------------------------------------------------------------
        ns, prefix = layout.purge_namespace, layout.purge_prefix
        phases: dict[str, float] = {}

        def on_purge(p: PurgeProgress) -> None:
            phases.setdefault(p.phase, clock.now())
            view.update(done=p.deleted, phase=p.phase)

        t = clock.now()
        with _bar(out, f"purge {ns}/{prefix}*", layout.count(ns, prefix)) as view:
            try:
                purge = await bulkops.purge(
                    index=INDEX,
                    client=client,
                    namespace=ns,
                    prefix=prefix,
                    backup_first=True,
                    checkpoint=work / "purge.checkpoint",
                    verify_delay=0.5,
                    progress=on_purge,
                )
            except VerificationError as exc:
                purge = exc.report
        backup_id = purge.backup_id
        end = clock.now()
        backup_started = phases.get("backup", t)
        deleting_started = phases.get("deleting", backup_started)
        steps.append(Step("backup (until Ready)", 0, deleting_started - backup_started, note=str(backup_id)))
        verdict = f"verified: {purge.verification.remaining} left" if purge.verification.checked else ""
        steps.append(
            Step(
                f"purge prefix {prefix}",
                purge.deleted or 0,
                end - deleting_started,
                purge.bound,
                note=f"{verdict}; rate over the delete phase, seconds incl. verification",
                measured_rate=purge.rate,
            )
        )
        facts["purged"] = purge.deleted
        facts["backup_id"] = backup_id

        # -- verify: the prefix is gone, everything else is intact -----------------------------------
        t = clock.now()
        left = await _count_prefix(dp, ns, prefix)
        stats = await dp.describe_index_stats()
        counts = {name: v.get("vectorCount") for name, v in stats["namespaces"].items()}
        expected = {
            name: layout.count(name) - (layout.count(ns, prefix) if name == ns else 0)
            for name in layout.namespaces
        }
        intact = all(counts.get(name) == want for name, want in expected.items())
        steps.append(
            Step(
                "verify",
                0,
                clock.now() - t,
                note=f"{left} IDs left under {prefix}; other records {'intact' if intact else 'CHANGED'}",
            )
        )
        facts["verified"] = left == 0 and intact
        facts["after_purge"] = counts

        # -- restore the backup into a new index -----------------------------------------------------
        t = clock.now()
        restored_total = 0
        if backup_id:
            started = await control.create_index_from_backup(backup_id, name=RESTORED)
            await control.wait_until_restore_done(started["restore_job_id"], poll_interval=0.1)
            await control.wait_until_index_ready(RESTORED, poll_interval=0.1)
            restored = await (await client.index(RESTORED)).describe_index_stats()
            restored_total = int(restored.get("totalVectorCount", 0))
            facts["restored"] = {n: v.get("vectorCount") for n, v in restored["namespaces"].items()}
        steps.append(
            Step(
                f"restore backup into {RESTORED}",
                restored_total,
                clock.now() - t,
                note="all records back" if restored_total == layout.total else f"expected {layout.total:,}",
            )
        )
        facts["restore_ok"] = restored_total == layout.total
        facts["list_bound"] = list_bound
        stats_now = client.stats
        facts["requests"] = stats_now.total_requests
        facts["rate_limited"] = stats_now.total_rate_limited
        facts["retries"] = stats_now.total_retries
    return steps, facts


def _load_progress(view: JobProgress) -> Callable[[LoadProgress], None]:
    return lambda p: view.update(done=p.upserted)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


async def _count_prefix(dp: Any, namespace: str, prefix: str) -> int:
    found, token = 0, None
    while True:
        page = await dp.list_page(namespace=namespace, prefix=prefix, limit=100, token=token)
        found += len(page.ids)
        token = page.next_token
        if token is None:
            return found


def _bar(out: Output, title: str, total: int) -> JobProgress:
    return JobProgress(out, title, total=total)


def _summary(out: Output, steps: list[Step], facts: dict[str, Any], total: float) -> None:
    ok = bool(facts.get("verified")) and bool(facts.get("restore_ok"))
    if out.json_mode:
        out.document(
            {
                "ok": ok,
                "seconds": total,
                "steps": [dict(s.row(), rate=s.rate, bound=s.bound) for s in steps],
                **facts,
            }
        )
    else:
        out.table([s.row() for s in steps], list(steps[0].row().keys()), title="bulkops demo summary")
        out.stdout.print(
            f"Requests {facts.get('requests', 0):,}, 429s {facts.get('rate_limited', 0)}, "
            f"retries {facts.get('retries', 0)}. Total {total:.1f} s."
        )
        bound = facts.get("list_bound")
        if bound:
            out.stdout.print(
                "Export and purge list IDs: Pinecone's default limits (list 200 requests/s per index\n"
                f"x 100 IDs) cap them at {bound:,.0f} IDs/s, so the exported namespace and the purged\n"
                "prefix are sized for a few seconds each. Purge rates are over its delete phase.\n"
                "Against real Pinecone: set PINECONE_API_KEY and run the same commands without a\n"
                "local server (see the README).",
                highlight=False,
            )
        out.stdout.print("[bold green]demo ok[/bold green]" if ok else "[bold red]demo FAILED[/bold red]")
    if not ok:
        raise click.exceptions.Exit(3)
