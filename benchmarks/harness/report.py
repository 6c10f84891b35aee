"""Write the results: ``results.json`` (every run + medians), ``results.md`` (the tables), PNG plots.

Plots (matplotlib, Agg backend, no display needed), each written when its points ran:

- ``latency.png``      achieved rate vs injected round-trip latency, one line per contender, the
                       documented bound as a dashed line (group ``latency``)
- ``concurrency.png``  achieved rate vs client concurrency, same conventions (group ``concurrency``)
- ``scenarios.png``    one panel per table cell (group ``table``): each contender's median rate as a
                       bar (with its median 429 count when there were any; "every run raised" when
                       none finished, "n/a" when it could not run here), the bound dashed when it is
                       on the same scale
- ``real-scenarios.png``  the same for the real-size cells at dimension 1536 (group ``real-table``)
- ``dimension.png``    achieved rate vs vector dimension per contender, one panel per scenario and
                       format, the bound dashed (dotted: the gRPC wire's bound where bytes make it
                       differ); the server-ceiling panels show its reference line (group ``dimension``)
- ``cpu.png``          client CPU ms per 1,000 records vs dimension per contender (log scale), one panel
                       per scenario and format (group ``dimension``, server ceilings excluded)
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from benchmarks.harness.spec import BULKOPS_CONTENDERS, SDK_CONTENDERS, SERVER_SCENARIOS

__all__ = ["machine", "markdown_table", "source_revision", "write_all"]

_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_STYLE: dict[str, dict[str, str]] = {
    "bulkops": {"color": "#1f77b4", "marker": "o", "label": "bulkops"},
    "bulkops-grpc": {"color": "#08306b", "marker": "o", "label": "bulkops gRPC"},
    "bulkops-rest": {"color": "#6baed6", "marker": "D", "label": "bulkops REST"},
    "bulkops-cli": {"color": "#2ca02c", "marker": "P", "label": "bulkops CLI"},
    "sdk-sync": {"color": "#d62728", "marker": "s", "label": "SDK sync loop"},
    "sdk-async": {"color": "#ff7f0e", "marker": "^", "label": "SDK asyncio + semaphore"},
    "sdk-grpc": {"color": "#9467bd", "marker": "v", "label": "SDK gRPC loop"},
    "raw-rest": {"color": "#8c564b", "marker": "s", "label": "server ceiling, REST"},
    "raw-grpc": {"color": "#e377c2", "marker": "o", "label": "server ceiling, gRPC"},
}


def source_revision() -> str:
    """The commit the harness and bulkops ran from (``BENCH_COMMIT`` wins: set it for a git archive)."""
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
    plots = [
        _lines(out_dir / "latency.png", _group(summary, "latency"), "latency_ms"),
        _lines(out_dir / "concurrency.png", _group(summary, "concurrency"), "concurrency"),
        _bars(out_dir / "scenarios.png", _group(summary, "table")),
        _bars(out_dir / "real-scenarios.png", _group(summary, "real-table")),
        _by_dimension(out_dir / "dimension.png", _group(summary, "dimension"), "rate"),
        _by_dimension(
            out_dir / "cpu.png",
            [s for s in _group(summary, "dimension") if s["scenario"] not in SERVER_SCENARIOS],
            "cpu_ms_per_1k",
        ),
    ]
    return written + [path for path in plots if path is not None]


def _group(summary: Sequence[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    return [s for s in summary if group in s["groups"]]


# -- tables -----------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "—" if value is None else format(value, spec)


def _ratio(value: float | None) -> str:
    return "—" if value is None else "<1%" if value < 0.005 else f"{value:.0%}"


def _data(s: dict[str, Any]) -> str:
    spread = f" in {s['namespaces']:,} ns" if s.get("namespaces", 1) > 1 else ""
    return f"{s['target']:,}/{s['records']:,}{spread}, dim {s['dimension']}"


def _vs_sdk(s: dict[str, Any]) -> str:
    ratios = s.get("vs_sdk")
    if s["contender"] not in BULKOPS_CONTENDERS or not ratios:
        return ""
    return " / ".join(f"{ratios[sdk]:.1f}×" if sdk in ratios else "—" for sdk in SDK_CONTENDERS)


def _rate_cell(s: dict[str, Any]) -> str:
    if s.get("unavailable"):
        return "n/a"
    if s["ok_runs"] == 0:
        return "failed"
    return _fmt(s.get("rate"))


def markdown_table(summary: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    jobs = [s for s in summary if s["scenario"] not in SERVER_SCENARIOS]
    ceilings = [s for s in summary if s["scenario"] in SERVER_SCENARIOS]
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{meta.get('command', '')}` at commit {meta.get('commit', 'unknown')}  ",
        f"Started {meta.get('started', '')}, took {meta.get('elapsed_s', 0):.0f} s; "
        f"{meta.get('reps')} repetitions per cell, medians shown; "
        f"machine: {meta.get('machine', {}).get('cpus')} CPUs, {meta.get('machine', {}).get('platform', '')}"
        " (server and client share them).",
        "",
    ]
    if jobs:
        lines += [
            "| scenario | data (target/total, dim) | latency | conc. | contender | rate (rec/s) | ÷ bound "
            "| bound | ÷ SDK sync / async / gRPC | wall s | CPU s | CPU ms/1k | peak RSS MB | 429s | retries "
            "| ok |",
            "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in jobs:
            cells = [
                s.get("label") or s["scenario"], _data(s), f"{s['latency_ms']:g} ms",
                str(s["concurrency"] or "auto"), s["contender"], _rate_cell(s),
                _ratio(s.get("ratio_to_bound")), _fmt(s.get("bound")), _vs_sdk(s),
                _fmt(s.get("wall_s"), ".1f"), _fmt(s.get("cpu_s"), ".1f"),
                _fmt(s.get("cpu_ms_per_1k"), ".0f"), _fmt(s.get("peak_rss_mb"), ".0f"),
                _fmt(s.get("http_429")), _fmt(s.get("retries")), f"{s['ok_runs']}/{s['runs']}",
            ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    if ceilings:
        lines += [
            "",
            "What the local server itself sustains (limits off, no latency; the load generator shares the "
            "machine, so server CPU per request is the figure that carries over):",
            "",
            "| scenario | dim | contender | requests/s | records/s | ÷ export-prefix bound "
            "| server CPU ms/request | → requests/s per free core | ok |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for s in ceilings:
            per_request = s.get("server_cpu_ms_per_request")
            wall, requests = s.get("wall_s"), s.get("requests")
            cells = [
                s["scenario"], str(s["dimension"]), s["contender"],
                _fmt(requests / wall if requests and wall else None), _rate_cell(s),
                _ratio(s.get("ratio_to_bound")), _fmt(per_request, ".2f"),
                _fmt(1000 / per_request if per_request else None), f"{s['ok_runs']}/{s['runs']}",
            ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    unavailable = sorted({(s["contender"], s["unavailable"]) for s in summary if s.get("unavailable")})
    if unavailable:
        lines += ["", "Not available on this checkout (recorded, not run):", ""]
        lines += [f"- {contender}: {reason}" for contender, reason in unavailable]
    errors: dict[tuple[str, str], list[str]] = {}
    for s in summary:
        for error in s.get("errors", []):
            one_line = _PORT.sub(r"\1:PORT", " ".join(str(error).split()))[:240]  # one line per kind
            cell = f"{s.get('label') or s['scenario']} (dim {s['dimension']})"
            errors.setdefault((s["contender"], one_line), []).append(cell)
    if errors:
        lines += [
            "",
            "Runs that ended with an error (for an SDK baseline: what its loop raised, a result in itself):",
            "",
        ]
        for (contender, error), cells in errors.items():
            lines.append(f"- {contender}: `{error}` — in {', '.join(dict.fromkeys(cells))}")
    lines += [
        "",
        "rate = records verified on the server (purge, import, copy) or distinct target IDs in the output "
        "(export), ÷ the contender's wall time; a run stops at its time budget, so a slow contender is "
        "measured over the part it finished. ÷ bound = rate ÷ the documented bound (formulas in "
        "`benchmarks/harness/bounds.py`; import and copy: per wire, JSON or protobuf bytes). "
        "÷ SDK = this bulkops contender's rate ÷ each SDK contender's. CPU (user + system, all threads) "
        "and peak RSS are the client process's (bulkops-cli: the `bulkops` process's); CPU ms/1k = CPU "
        "per 1,000 verified records.",
        "",
    ]
    return "\n".join(lines)


# -- plots ------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _thousands(ax: Any, axis: str = "y") -> None:
    import matplotlib.ticker

    formatter = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _bars(path: Path, summary: Sequence[dict[str, Any]]) -> Path | None:
    cells = list(summary)
    if not any(s.get("rate") is not None or s.get("unavailable") for s in cells):
        return None
    plt = _pyplot()
    panels = list(dict.fromkeys(s["point"] for s in cells))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 4.6), squeeze=False)
    for ax, point in zip(axes[0], panels, strict=True):
        mine = {s["contender"]: s for s in cells if s["point"] == point}
        names = [c for c in _STYLE if c in mine]
        rates = [mine[c].get("rate") or 0.0 for c in names]
        ax.bar(
            range(len(names)),
            rates,
            color=[_STYLE[c]["color"] for c in names],
            tick_label=[_STYLE[c]["label"].replace(" + ", "\n+ ").replace(" loop", "\nloop") for c in names],
        )
        for x, name in enumerate(names):
            s = mine[name]
            n429 = s.get("http_429") or 0
            label = (
                "n/a"
                if s.get("unavailable")
                else "every run\nraised"
                if s["ok_runs"] == 0
                else f"{rates[x]:,.0f}" + (f"\n{n429:,.0f} × 429" if n429 else "")
            )
            ax.annotate(label, (x, rates[x]), ha="center", va="bottom", fontsize=7)
        first = next(iter(mine.values()))
        bounds = sorted({s["bound"] for s in mine.values() if s.get("bound")})
        top = max(*rates, 1.0)
        for bound in bounds:
            if bound <= 3 * top:
                ax.axhline(bound, color="black", linestyle="--", linewidth=1.2)
                top = max(top, bound)
        ax.set_ylim(0, top * 1.25)
        bound_text = "bound " + " / ".join(f"{b:,.0f}/s" for b in bounds) if bounds else "no bound"
        title = f"{first.get('label') or first['scenario']}\n{_data(first)}, {first['latency_ms']:g} ms"
        ax.set_title(f"{title}; {bound_text}", fontsize=8)
        ax.tick_params(axis="x", labelsize=7, rotation=90)
        _thousands(ax)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("achieved rate (records/s, median)")
    return _save(plt, fig, path)


def _lines(path: Path, summary: Sequence[dict[str, Any]], axis: str) -> Path | None:
    points = [s for s in summary if s.get("rate") is not None and s.get(axis) is not None]
    if not points:
        return None
    import matplotlib.ticker

    plt = _pyplot()
    scenarios = sorted({s["scenario"] for s in points})
    fig, axes = plt.subplots(1, len(scenarios), figsize=(7 * len(scenarios), 4.6), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        mine = [s for s in points if s["scenario"] == scenario]
        for contender, style in _STYLE.items():
            series = sorted((s[axis], s["rate"]) for s in mine if s["contender"] == contender)
            if series:
                xs, ys = zip(*series, strict=True)
                ax.plot(xs, ys, linewidth=2, markersize=7, **style)
        top = max(s["rate"] for s in mine)
        bounds = _draw_bounds(ax, sorted({s["bound"] for s in mine if s.get("bound")}), top)
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
        ax.set_ylim(bottom=0, top=max(top, *bounds, 1) * 1.15)
        _thousands(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    return _save(plt, fig, path)


def _draw_bounds(ax: Any, bounds: Sequence[float], top: float) -> list[float]:
    """Dashed lines for the bounds on the panel's scale; returns those drawn."""
    drawn = []
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
            drawn.append(bound)
        else:
            ax.set_title(f"(bound {bound:,.0f}/s is off this scale)", fontsize=8, loc="right")
    return drawn


def _by_dimension(path: Path, summary: Sequence[dict[str, Any]], metric: str) -> Path | None:
    """``metric`` vs dimension per contender, a panel per scenario label; bounds per wire for rates."""
    points = [s for s in summary if s.get(metric) is not None]
    if not points:
        return None
    import matplotlib.ticker

    plt = _pyplot()
    labels = list(dict.fromkeys(s.get("label") or s["scenario"] for s in points))
    columns = min(3, len(labels))
    rows = (len(labels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(6.2 * columns, 4.4 * rows), squeeze=False)
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    for ax, label in zip(axes.flat, labels, strict=False):
        mine = [s for s in points if (s.get("label") or s["scenario"]) == label]
        for contender, style in _STYLE.items():
            series = sorted((s["dimension"], s[metric]) for s in mine if s["contender"] == contender)
            if series:
                xs, ys = zip(*series, strict=True)
                ax.plot(xs, ys, linewidth=2, markersize=7, **style)
        if metric == "rate":
            _bound_series(ax, [s for s in summary if (s.get("label") or s["scenario"]) == label])
            ax.set_ylim(bottom=0)
            ax.set_ylabel("achieved rate (records/s, median)")
            _thousands(ax)
        else:
            ax.set_yscale("log")
            ax.set_ylabel("client CPU ms per 1,000 records (median)")
            _thousands(ax)
            ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xticks(sorted({s["dimension"] for s in mine}))
        ax.set_xlabel("vector dimension")
        first = mine[0]
        ax.set_title(
            f"{label}, {first['latency_ms']:g} ms, limits {first['limits']}", fontsize=10, loc="left"
        )
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    return _save(plt, fig, path)


def _bound_series(ax: Any, entries: Sequence[dict[str, Any]]) -> None:
    """The bound per dimension: dashed for REST-wire contenders, dotted where the gRPC wire's differs."""
    reference = any(s["scenario"] in SERVER_SCENARIOS for s in entries)
    for wire, style in (("rest", "--"), ("grpc", ":")):
        series = sorted(
            {
                (s["dimension"], s["bound"])
                for s in entries
                if s.get("bound") and (s.get("transport") == "grpc") == (wire == "grpc")
            }
        )
        if series:
            xs, ys = zip(*series, strict=True)
            label = "export-by-prefix bound" if reference else f"bound ({wire} wire)"
            ax.plot(xs, ys, color="black", linestyle=style, linewidth=1.2, label=label)
            if reference:
                return
