"""Write the results: ``results.json`` (every run + medians), ``results.md`` (the table), PNG plots.

Plots (matplotlib, Agg backend, no display needed):

- ``latency.png``      achieved rate vs injected round-trip latency, one line per contender, the
                       documented bound as a dashed line (groups containing ``latency``)
- ``concurrency.png``  achieved rate vs client concurrency, same conventions (group ``concurrency``)
- ``scenarios.png``    one panel per table cell (group ``table``): each contender's median rate as a
                       bar (with its median 429 count when there were any; "every run raised" when
                       none finished), the documented bound as a dashed line when it is on the same scale
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

__all__ = ["markdown_table", "write_all"]

_STYLE = {
    "bulkops": {"color": "#1f77b4", "marker": "o", "label": "bulkops"},
    "sdk-sync": {"color": "#d62728", "marker": "s", "label": "SDK sync loop"},
    "sdk-async": {"color": "#ff7f0e", "marker": "^", "label": "SDK asyncio + semaphore"},
}


def source_revision() -> str:
    """The commit the harness and bulkops ran from (``BENCH_COMMIT`` wins: set it for a git archive)."""
    import os
    import subprocess

    from benchmarks.harness.runner import REPO_ROOT

    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "bulkops", "benchmarks/harness"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "note": "server and client share the machine's cores (and, here, other people's work)",
    }


def write_all(
    out_dir: Path, *, rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], meta: dict[str, Any]
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"meta": meta, "summary": list(summary), "runs": list(rows)}
    written = [out_dir / "results.json", out_dir / "results.md"]
    written[0].write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    written[1].write_text(markdown_table(summary, meta), encoding="utf-8")
    for group, axis in (("latency", "latency_ms"), ("concurrency", "concurrency")):
        path = _plot(out_dir / f"{group}.png", [s for s in summary if group in s["groups"]], axis)
        if path is not None:
            written.append(path)
    bars = _bars(out_dir / "scenarios.png", [s for s in summary if "table" in s["groups"]])
    if bars is not None:
        written.append(bars)
    return written


def _bars(path: Path, summary: Sequence[dict[str, Any]]) -> Path | None:
    cells = list(summary)
    if not any(s.get("rate") is not None for s in cells):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys(s["point"] for s in cells))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 4.2), squeeze=False)
    for ax, point in zip(axes[0], panels, strict=True):
        mine = [s for s in cells if s["point"] == point]
        scenario = mine[0]["scenario"] + ("" if mine[0]["limits"] == "default" else f" ({mine[0]['limits']})")
        names = [c for c in _STYLE if any(s["contender"] == c for s in mine)]
        rates = [next(s["rate"] or 0.0 for s in mine if s["contender"] == c) for c in names]
        throttled = [next(s.get("http_429") or 0 for s in mine if s["contender"] == c) for c in names]
        failed = [next(s["ok_runs"] == 0 for s in mine if s["contender"] == c) for c in names]
        ax.bar(
            range(len(names)),
            rates,
            color=[_STYLE[c]["color"] for c in names],
            tick_label=[
                str(_STYLE[c]["label"]).replace(" + ", "\n+ ").replace(" loop", "\nloop") for c in names
            ],
        )
        for x, (rate, n429, dead) in enumerate(zip(rates, throttled, failed, strict=True)):
            label = "every run\nraised" if dead else f"{rate:,.0f}" + (f"\n{n429:,.0f} × 429" if n429 else "")
            ax.annotate(label, (x, rate), ha="center", va="bottom", fontsize=8)
        bound = mine[0].get("bound")
        top = max(*rates, 1.0)
        if bound and bound <= 3 * top:
            ax.axhline(bound, color="black", linestyle="--", linewidth=1.2)
            top = max(top, bound)
        ax.set_ylim(0, top * 1.25)
        bound_text = f"bound {bound:,.0f}/s" if bound else "no bound"
        ax.set_title(
            f"{scenario}\n{mine[0]['target']:,} rec, {mine[0]['latency_ms']:g} ms; {bound_text}", fontsize=9
        )
        ax.tick_params(axis="x", labelsize=8)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("achieved rate (records/s, median)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "—" if value is None else format(value, spec)


def markdown_table(summary: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{meta.get('command', '')}` at commit {meta.get('commit', 'unknown')}  ",
        f"Started {meta.get('started', '')}, took {meta.get('elapsed_s', 0):.0f} s; "
        f"{meta.get('reps')} repetitions per cell, medians shown; "
        f"machine: {meta.get('machine', {}).get('cpus')} CPUs, {meta.get('machine', {}).get('platform', '')}"
        " (server and client share them).",
        "",
        "| scenario | data (target/total, dim) | latency | limits | conc. | contender | rate (rec/s) "
        "| ÷ bound | bound | bulkops ÷ this | wall s | CPU s | CPU ms/1k | peak RSS MB | 429s | retries "
        "| ok |",
        "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        ratio = s.get("ratio_to_bound")
        lines.append(
            "| "
            + " | ".join(
                [
                    s["scenario"],
                    f"{s['target']:,}/{s['records']:,}, {s['dimension']}",
                    f"{s['latency_ms']:g} ms",
                    s["limits"],
                    str(s["concurrency"] or "auto"),
                    s["contender"],
                    _fmt(s.get("rate")),
                    "—" if ratio is None else "<1%" if ratio < 0.005 else f"{ratio:.0%}",
                    _fmt(s.get("bound")),
                    "" if s.get("bulkops_speedup") is None else f"{s['bulkops_speedup']:.1f}×",
                    _fmt(s.get("wall_s"), ".1f"),
                    _fmt(s.get("cpu_s"), ".1f"),
                    _fmt(s.get("cpu_ms_per_1k"), ".0f"),
                    _fmt(s.get("peak_rss_mb"), ".0f"),
                    _fmt(s.get("http_429")),
                    _fmt(s.get("retries")),
                    f"{s['ok_runs']}/{s['runs']}",
                ]
            )
            + " |"
        )
    errors = [(s["scenario"], s["contender"], e) for s in summary for e in s.get("errors", [])]
    if errors:
        lines += [
            "",
            "Runs that ended with an error (for an SDK baseline: what its loop raised, a result in itself):",
            "",
        ]
        lines += [f"- {scenario} / {contender}: `{error}`" for scenario, contender, error in errors]
    lines += [
        "",
        "rate = records verified on the server (purge, import) or distinct IDs in the output (export), "
        "÷ the contender's wall time; a run stops at its time budget, so a slow contender is measured "
        "over the part it finished. ÷ bound = rate ÷ the documented bound (formulas in "
        "`benchmarks/harness/bounds.py`). CPU and peak RSS are the client process's.",
        "",
    ]
    return "\n".join(lines)


def _plot(path: Path, summary: Sequence[dict[str, Any]], axis: str) -> Path | None:
    points = [s for s in summary if s.get("rate") is not None and s.get(axis) is not None]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = sorted({s["scenario"] for s in points})
    fig, axes = plt.subplots(1, len(scenarios), figsize=(7 * len(scenarios), 4.6), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        mine = [s for s in points if s["scenario"] == scenario]
        for contender, style in _STYLE.items():
            series = sorted((s[axis], s["rate"]) for s in mine if s["contender"] == contender)
            if series:
                xs, ys = zip(*series, strict=True)
                ax.plot(xs, ys, linewidth=2, markersize=7, **style)
        bounds = sorted({s["bound"] for s in mine if s.get("bound")})
        top = max(s["rate"] for s in mine)
        for bound in bounds:
            if bound <= 3 * top:
                ax.axhline(bound, color="black", linestyle="--", linewidth=1.2)
                ax.annotate(
                    f"documented bound {bound:,.0f}/s",
                    xy=(0.99, bound),
                    xycoords=("axes fraction", "data"),
                    xytext=(0, -12),
                    textcoords="offset points",
                    ha="right",
                    fontsize=9,
                )
            else:
                ax.set_title(f"(bound {bound:,.0f}/s is off this scale)", fontsize=8, loc="right")
        first = mine[0]
        ax.set_title(
            f"{scenario}: {first['target']:,} of {first['records']:,} records, limits {first['limits']}"
            + ("" if axis == "latency_ms" else f", latency {first['latency_ms']:g} ms"),
            fontsize=10,
            loc="left",
        )
        ax.set_xlabel(
            "injected round-trip latency (ms)"
            if axis == "latency_ms"
            else "client concurrency (bulkops: list chains; SDK: requests in flight)"
        )
        if axis == "concurrency":
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted({s[axis] for s in mine}))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_ylabel("achieved rate (records/s, median)")
        ax.set_ylim(bottom=0, top=max(top, *(b for b in bounds if b <= 3 * top), 1) * 1.15)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
