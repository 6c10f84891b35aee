"""``bulkops serve``: run the local Pinecone-compatible server until interrupted."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from bulkops.errors import UsageError
from bulkops.limits.profiles import load_profile
from bulkops.server.config import DEFAULT_LIST_PAGE_MAX, ServerConfig, parse_latency
from bulkops.server.faults import parse_faults
from bulkops.server.process import READY_PREFIX


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it local).")
@click.option(
    "--port", default=5080, show_default=True, type=int, help="Control-plane port (0 = any free port)."
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Persist here (SQLite, WAL)."
)
@click.option("--in-memory", is_flag=True, help="Keep everything in memory (the default without --data-dir).")
@click.option(
    "--api-key", envvar="BULKOPS_SERVE_API_KEY", help="Require this Api-Key header (401 otherwise)."
)
@click.option(
    "--limits", "limits", default="default", show_default=True, help="default, strict, none, or a JSON file."
)
@click.option(
    "--latency", default="", help="MS[:JITTER_MS], plus OPERATION=MS[:JITTER_MS] overrides, comma-separated."
)
@click.option(
    "--faults",
    default="",
    help="e.g. '500:0.01,reset@fetch:0.05,503@list#3,after-reset@upsert#2' (docs/architecture.md).",
)
@click.option("--consistency-lag", default=0.0, type=float, help="Deleted records stay visible this many ms.")
@click.option(
    "--list-page-max", default=DEFAULT_LIST_PAGE_MAX, show_default=True, type=int, help="Cap on list limit."
)
@click.option("--seed", type=int, help="Seed for jitter and probabilistic faults.")
@click.option(
    "--backup-freshness",
    default=0.0,
    type=float,
    metavar="SECONDS",
    help="Backups leave out records upserted this recently (Pinecone: 900, i.e. 15 minutes) [default: 0].",
)
@click.option(
    "--index-port-base",
    type=int,
    help="New indexes listen from this port up (default: the port after --port, as Pinecone Local "
    "does, so keep two servers' ports apart; any free port with --port 0). An index keeps its port "
    "across restarts on the same --data-dir either way.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificate: serve REST over https and gRPC over TLS (needs --tls-key).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM private key of --tls-cert.",
)
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    in_memory: bool,
    api_key: str | None,
    limits: str,
    latency: str,
    faults: str,
    consistency_lag: float,
    list_page_max: int,
    seed: int | None,
    backup_freshness: float,
    index_port_base: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Run a local Pinecone-compatible server (control plane on PORT, one port per index).

    Each index's port answers REST (HTTP/1.1) and Pinecone's gRPC data plane (HTTP/2) alike.
    The first line printed is 'bulkops serve listening on http://HOST:PORT' (https with TLS).
    """
    if in_memory and data_dir is not None:
        raise click.UsageError("use either --data-dir or --in-memory, not both")
    try:
        base, per_op = parse_latency(latency)
        config = ServerConfig(
            host=host,
            port=port,
            data_dir=data_dir,
            api_key=api_key,
            limits=None if limits == "none" else load_profile(limits),
            latency_ms=base.fixed_ms,
            jitter_ms=base.jitter_ms,
            latency_per_operation=per_op,
            faults=parse_faults(faults),
            consistency_lag_ms=consistency_lag,
            list_page_max=list_page_max,
            seed=seed,
            backup_freshness_s=backup_freshness,
            index_port_base=index_port_base,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    asyncio.run(_run(config))


async def _run(config: ServerConfig) -> None:
    from bulkops.server.app import serve_local

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve_local(config) as server:
        click.echo(f"{READY_PREFIX}{server.url}")
        for name in sorted(server.indexes):
            click.echo(f"index {name} at {server.index_host(name)}")
        await stop.wait()
