"""Markdown tables from evaluation JSON files (for the model card).

    python -m sgenet_ocr.evaluation.report runs/eval/final_*.json > tables.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..cli import ArgumentParser, run_cli
from ..errors import UsageError
from .markdown import num, pct
from .protocols import LR_HEIGHT_BUCKETS

RESTORER_ORDER = ("identity", "bicubic", "sgenet", "hr")


def load_result(path: str | Path) -> dict:
    """An evaluation JSON (``{"settings", "rows"}``) from disk; anything else is a one-line error."""
    try:
        result = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"evaluation file not found: {path}") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not an evaluation JSON ({exc})") from None
    if not isinstance(result, dict) or not {"settings", "rows"} <= set(result):
        raise UsageError(f"{path}: not an evaluation JSON (no settings and rows; see python -m sgenet_ocr.evaluate)")
    return result


def _cell(row: dict | None) -> str:
    if row is None or row["accuracy"] is None:
        return "-"
    return f"{pct(row['accuracy'])} ({row['n']})"


def table(result: dict) -> str:
    """One markdown table: recogniser x restorer rows, accuracy per LR-height bucket, PSNR/SSIM."""
    settings = result["settings"]
    rows = [r for r in result["rows"] if r.get("split", "all") == "all"]
    index = {(r["recognizer"], r["restorer"], r["bucket"]): r for r in rows}
    restorers = [r for r in RESTORER_ORDER if any(k[1] == r for k in index)]
    restorers += sorted({k[1] for k in index} - set(restorers))
    buckets = ("all",) + LR_HEIGHT_BUCKETS
    lines = [
        f"**{settings['protocol']}** on `{Path(settings['data']).name}`: {settings['samples']} words"
        + (f" (first {settings['limit']})" if settings.get("limit") else "")
        + f", restored when LR height < {settings.get('min_height') or 'inf'} px. "
        "Word accuracy % (n) by LR text height; PSNR dB / SSIM vs HR over all words.",
        "",
        "| recognizer | restorer | " + " | ".join(buckets) + " | PSNR | SSIM |",
        "|---|---|" + "---|" * (len(buckets) + 2),
    ]
    for recognizer in settings["recognizers"]:
        for restorer in restorers:
            overall = index.get((recognizer, restorer, "all"))
            if overall is None:
                continue
            cells = [_cell(index.get((recognizer, restorer, b))) for b in buckets]
            psnr, ssim = num(overall["psnr"], 2, missing="-"), num(overall["ssim"], 4, missing="-")
            name = f"**{restorer}**" if restorer == "sgenet" else restorer
            lines.append(f"| {recognizer} | {name} | " + " | ".join(cells) + f" | {psnr} | {ssim} |")
    return "\n".join(lines) + "\n"


def _main(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="python -m sgenet_ocr.evaluation.report",
                            description="Print evaluation JSON files (python -m sgenet_ocr.evaluate --json) "
                                        "as markdown tables.")
    parser.add_argument("results", nargs="+", metavar="RESULT.json", help="evaluation JSON file(s)")
    for path in parser.parse_args(argv).results:
        print(table(_tabulable(load_result(path), path)))
    return 0


# What table() reads: anything else the evaluation writes may be absent from an older file.
TABLE_SETTINGS = ("data", "protocol", "samples", "recognizers")
TABLE_ROW = ("recognizer", "restorer", "bucket", "accuracy", "n")


def _tabulable(result: dict, path: str) -> dict:
    """``result``, or a one-line error naming the first field :func:`table` would miss."""
    missing = [f"settings.{k}" for k in TABLE_SETTINGS if k not in (result["settings"] or {})]
    missing += [f"rows[{i}].{k}" for i, row in enumerate(result["rows"]) for k in TABLE_ROW
                if not isinstance(row, dict) or k not in row][:1]
    if missing:
        raise UsageError(f"{path}: not an evaluation JSON (no {missing[0]})")
    return result


def main(argv: list[str] | None = None) -> int:
    return run_cli("report", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
