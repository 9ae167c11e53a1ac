"""Markdown tables and matplotlib plots for the end-to-end benchmark's results."""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from benchmarks.scoring import ALL, TEXT_HEIGHT_BUCKETS
from sgenet_ocr.evaluation.markdown import num, pct  # noqa: F401 - pct/num: also used by run_all

# Finer height bins (rounded px, inclusive upper bounds) for the accuracy-vs-height plot.
PLOT_BINS = ((8, "<=8"), (12, "9-12"), (16, "13-16"), (24, "17-24"), (32, "25-32"), (48, "33-48"),
             (math.inf, ">48"))


def _index(rows: Iterable[dict]) -> dict[tuple, dict]:
    return {(r["dataset"], r["engine"], r["scale"], r["restorer"], r["measure"], r["bucket"]): r for r in rows}


def markdown_table(rows: list[dict]) -> str:
    """One line per dataset x engine x scale x restorer: accuracy by bucket, CER, e2e, cost."""
    index = _index(rows)
    keys = list(dict.fromkeys((r["dataset"], r["engine"], r["scale"], r["restorer"]) for r in rows))
    head = ("| dataset | engine | scale | restorer | GT-box acc % <=16 | 17-32 | >32 | all | CER | "
            "e2e recall % | precision % | F1 % | F1 ceiling % | recall <=16 | s/page | restore share % |")
    lines = [head, "|" + "|".join(["---"] * 16) + "|"]
    for ds, engine, scale, restorer in keys:
        g = {b: index.get((ds, engine, scale, restorer, "gt_boxes", b), {}) for b in (ALL, *TEXT_HEIGHT_BUCKETS)}
        e = {b: index.get((ds, engine, scale, restorer, "e2e", b), {}) for b in (ALL, *TEXT_HEIGHT_BUCKETS)}
        lines.append("| " + " | ".join([
            ds, engine, f"{scale:g}", restorer,
            pct(g["<=16"].get("accuracy")), pct(g["17-32"].get("accuracy")), pct(g[">32"].get("accuracy")),
            pct(g[ALL].get("accuracy")), num(g[ALL].get("cer")),
            pct(e[ALL].get("recall")), pct(e[ALL].get("precision")), pct(e[ALL].get("f1")),
            pct(e[ALL].get("f1_ceiling")),
            pct(e["<=16"].get("recall")), num(e[ALL].get("seconds_per_image"), 2),
            pct(e[ALL].get("restore_share")),
        ]) + " |")
    return "\n".join(lines)


def counts_table(rows: list[dict]) -> str:
    """How many ground-truth texts each bucket holds, per dataset and scale."""
    seen: dict[tuple, dict[str, int]] = {}
    for r in rows:
        if r["measure"] == "gt_boxes":
            cell = seen.setdefault((r["dataset"], r["scale"]), {"pages": r.get("pages", "?")})
            cell[r["bucket"]] = r["n"]
    lines = ["| dataset | scale | pages | n <=16 | n 17-32 | n >32 | n all |", "|---|---|---|---|---|---|---|"]
    for (ds, scale), n in seen.items():
        lines.append(f"| {ds} | {scale:g} | {n['pages']} | {n.get('<=16', 0)} | {n.get('17-32', 0)} | "
                     f"{n.get('>32', 0)} | {n.get(ALL, 0)} |")
    return "\n".join(lines)


def markdown_report(settings: dict[str, Any], rows: list[dict]) -> str:
    """A self-contained markdown section: settings that matter, the results, the counts."""
    ds = settings.get("dataset", {})
    limit = settings.get("limit")
    versions = settings.get("engine_versions", {})
    scale_limits = "".join(f"; only the first {n} at scale {s}" for s, n in settings.get("scale_limits", {}).items())
    engines = ", ".join(f"{e} ({versions.get(e, '?')})" for e in settings.get("engines", []))
    parts = [
        f"### End-to-end benchmark: {ds.get('name', '?')}",
        "",
        f"- data: `{settings.get('data')}` ({ds.get('layout')}), {ds.get('images')} pages"
        f"{f' (first {limit} in natural order)' if limit else ' (all)'}{scale_limits}, {ds.get('texts')} texts, "
        f"{ds.get('dont_care')} don't care, {ds.get('bad_lines', 0)} unreadable annotation lines skipped",
        f"- engines: {engines}",
        f"- restorers: {', '.join(settings.get('restorers', []))}; the stage restores text lower than "
        f"{settings.get('min_height')} px; scales: {', '.join(f'{s:g}' for s in settings.get('scales', []))}",
        f"- machine: {settings.get('machine', {}).get('cpus')} CPUs, torch threads "
        f"{settings.get('machine', {}).get('torch_threads')}; commit {settings.get('git_commit') or '?'}",
        "- GT-box acc: word accuracy on ground-truth boxes (TextZoom: lower-case, [0-9a-z]); e2e: ICDAR 2015 "
        "end-to-end matching (IoU >= 0.5); F1 ceiling: every located word read right; s/page and restore "
        "share: whole pipeline (detect + restore + recognise)",
        *(f"- {engine}'s {name}: its matched weights, {d.get('weights_file', '?')}"
          for engine, own in settings.get("engine_restorer_details", {}).items() for name, d in own.items()),
        *(f"- NOT RUN: {item['what']}: {item['reason']}" for item in settings.get("skipped", [])),
        "",
        markdown_table(rows),
        "",
        counts_table(rows),
        "",
    ]
    return "\n".join(parts)


def _plot_bin(height: float) -> int:
    h = math.floor(height + 0.5)
    return next(i for i, (top, _) in enumerate(PLOT_BINS) if h <= top)


def plot_curves(curves: list[dict], out_dir: Path) -> list[Path]:
    """Per dataset, one panel per engine: GT-box accuracy vs text height, a line per restorer.

    Words from every scale are pooled: what matters is the height the engine sees.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for c in curves:
        by_dataset[c["dataset"]].append(c)
    for dataset, items in by_dataset.items():
        engines = list(dict.fromkeys(c["engine"] for c in items))
        fig, axes = plt.subplots(1, len(engines), figsize=(4.2 * len(engines), 3.6), squeeze=False, sharey=True)
        for ax, engine in zip(axes[0], engines):
            totals: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in PLOT_BINS])
            for c in items:
                if c["engine"] != engine:
                    continue
                for h, ok in zip(c["heights"], c["correct"]):
                    cell = totals[c["restorer"]][_plot_bin(h)]
                    cell[0] += 1
                    cell[1] += bool(ok)
            counts = None
            for restorer, cells in totals.items():
                # empty bins are gaps, not interpolated
                ys = [100 * good / n if n else math.nan for n, good in cells]
                ax.plot(range(len(cells)), ys, marker="o", label=restorer)
                counts = [n for n, _ in cells]
            ax.set_xticks(range(len(PLOT_BINS)))
            ax.set_xticklabels([f"{label}\nn={n}" for (_, label), n in zip(PLOT_BINS, counts or [0] * len(PLOT_BINS))],
                               fontsize=7)
            ax.set_title(engine)
            ax.set_xlabel("text height (px, after scaling)")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("word accuracy on GT boxes (%)")
        axes[0][-1].legend(fontsize=8)
        fig.suptitle(f"{dataset}: accuracy vs text height (all scales pooled)", fontsize=10)
        fig.tight_layout()
        path = out_dir / f"{dataset}_accuracy_vs_height.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_examples(examples: list[dict], out_dir: Path) -> list[Path]:
    """Per dataset: restored crops (first ones in page order, smallest scale) with each reading."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for e in examples:
        by_dataset[e["dataset"]].append(e)
    for dataset, groups in by_dataset.items():
        smallest = min(g["scale"] for g in groups)
        groups = [g for g in groups if g["scale"] == smallest and g["items"]]
        rows = [(g["engine"], item) for g in groups for item in g["items"]]
        if not rows:
            continue
        columns = ["LR"] + [n for n in rows[0][1]["crops"] if n not in ("LR", "identity")]
        fig, axes = plt.subplots(len(rows), len(columns), figsize=(2.6 * len(columns), 0.95 * len(rows) + 0.6),
                                 squeeze=False)
        for r, (engine, item) in enumerate(rows):
            for c, column in enumerate(columns):
                ax = axes[r][c]
                ax.imshow(item["crops"][column], interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                reading = item["readings"].get("identity" if column == "LR" else column)
                if reading is not None and len(reading) > 26:  # long receipt lines would overlap
                    reading = reading[:25] + "…"
                title = f"{column}: {reading!r}" if reading is not None else column
                ax.set_title(title, fontsize=7)
                if c == 0:
                    ax.set_ylabel(f"{engine}\nGT {item['label']!r}\n{item['height']:.0f}px", fontsize=7,
                                  rotation=0, ha="right", va="center")
        fig.suptitle(f"{dataset}, scale {smallest:g}: first restored GT crops\n(page order) and readings",
                     fontsize=9)
        fig.tight_layout()
        path = out_dir / f"{dataset}_examples.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
