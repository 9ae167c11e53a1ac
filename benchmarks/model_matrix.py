"""The model card's summary: every protocol x every recogniser, the engine alone, bicubic, the
generic weights, the engine's matched weights and HR, with the share of the LR->HR gap closed.

    python benchmarks/model_matrix.py --protocols half,third,half-blur,textzoom --limit 300 \
        --cache eval_cache.json --json matrix.json --markdown matrix.md

SGENet is judged alone (``--keep restored``): every restored crop is read, as in the issue's
targets. Crops whose LR height is at least ``--min-height`` (24, as in the pipeline) pass
through. *Matched* are the weights the recogniser's engine picks by default
(``OcrEngine.preferred_weights``), or those given with ``--matched RECOGNIZER=WEIGHTS``; a
recogniser whose engine has none gets no matched column. ``half`` always covers every word
(it is the acceptance protocol); ``--limit`` applies to the others. With ``--cache`` the
readings and SGENet outputs are reused between runs (``python -m sgenet_ocr.evaluate --cache``).

The default weights (matched, else generic) are also paired word by word with the better of
identity and bicubic on the words <= 12 px (``sgenet_ocr.evaluation.compare``): the words they
fix and break, and the exact sign test's p, so a gain of a few words is not read as a result.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.errors import UsageError  # noqa: E402
from sgenet_ocr.evaluation.protocols import PROTOCOLS  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402

COLUMNS = ("identity", "bicubic", "generic", "matched", "hr")
BUCKETS = ("<=8", "9-12", "13-16", "all")
SMALL = ("<=8", "9-12")  # "small text" of the targets: LR height <= 12 px
FULL_PROTOCOL = "half"   # the acceptance protocol: never limited


def matched_weights(host, recognizer: str, overrides: dict[str, str]) -> str | None:
    """The weights ``recognizer``'s engine runs SGENet with by default, unless overridden."""
    from sgenet_ocr.evaluate import engine_name

    if recognizer in overrides:
        return overrides[recognizer]
    engine = host.engines.create(engine_name(recognizer))  # engine factories import lazily: ask the engine
    try:
        return getattr(engine, "preferred_weights", None)
    finally:
        engine.close()


def small_accuracy(cells: dict) -> float | None:
    """Accuracy over the <= 12 px words, from the two buckets' accuracies and counts."""
    parts = [cells.get(b) for b in SMALL]
    if any(p is None or p["accuracy"] is None for p in parts):
        return None
    n = sum(p["n"] for p in parts)
    return round(sum(p["accuracy"] * p["n"] for p in parts) / n, 4) if n else None


def gap_closed(restored: float | None, identity: float | None, hr: float | None) -> float | None:
    """Share of the engine-alone -> HR gap a restorer closes (negative when it loses)."""
    if None in (restored, identity, hr) or hr <= identity:
        return None
    return (restored - identity) / (hr - identity)


def measure(data: Path, protocol: str, recognizer: str, host, matched: str | None, limit: int | None,
            min_height: int, cache: str | None) -> dict:
    """``{column: {bucket: {"n", "accuracy"}}}`` for one protocol and recogniser."""
    from sgenet_ocr.evaluate import evaluate

    common = dict(limit=None if protocol == FULL_PROTOCOL else limit, min_height=min_height,
                  host=host, cache=cache, keep="restored", per_word=True)
    runs = [("generic", evaluate(data, protocol, ["identity", "bicubic", "sgenet"], [recognizer], **common))]
    if matched:
        runs.append(("matched", evaluate(data, protocol, ["sgenet"], [recognizer], weights=matched,
                                         include_hr=False, **common)))
    table: dict[str, dict] = {}
    for sgenet_column, result in runs:
        for row in result["rows"]:
            if row.get("split", "all") != "all" or row["bucket"] not in BUCKETS:
                continue
            column = sgenet_column if row["restorer"] == "sgenet" else row["restorer"]
            table.setdefault(column, {})[row["bucket"]] = {"n": row["n"], "accuracy": row["accuracy"]}
    table["weights"] = {name: result["settings"]["weights"] for name, result in runs}
    table["paired"] = paired_with_bar(table, dict(runs))
    return table


def paired_with_bar(table: dict, results: dict[str, dict]) -> dict | None:
    """The default weights against the better of identity and bicubic, word by word, on the
    words <= 12 px: ``{"weights", "bar", "n", "fixed", "broken", "p"}`` (None without such words)."""
    from sgenet_ocr.evaluation.compare import compare

    bars = {c: small_accuracy(table.get(c, {})) for c in ("identity", "bicubic")}
    if None in bars.values():
        return None
    bar = max(bars, key=lambda c: (bars[c], c == "identity"))  # a tie: the engine alone
    column = "matched" if "matched" in results else "generic"
    rows = compare(results["generic"], results[column], base_restorer=bar, new_restorer="sgenet")
    small = next(r for r in rows if r.bucket == "<=12")
    return {"weights": column, "bar": bar, "n": small.n, "fixed": small.fixed, "broken": small.broken,
            "p": small.p_value}


def summarise(protocol: str, recognizer: str, table: dict) -> dict:
    small = {c: small_accuracy(table[c]) for c in COLUMNS if c in table}
    out = {"protocol": protocol, "recognizer": recognizer, "small_accuracy": small,
           "gap_closed": {c: gap_closed(small.get(c), small.get("identity"), small.get("hr"))
                          for c in ("bicubic", "generic", "matched") if c in small}}
    # The `half` target: +3 points over the better of identity and bicubic in each small bucket
    # (None where a protocol has no such words, as textzoom's 16 px LR).
    out["margin_over_plain"] = {c: {b: _margin(table, c, b) for b in SMALL}
                                for c in ("generic", "matched") if c in table}
    return out


def _margin(table: dict, column: str, bucket: str) -> float | None:
    """Points ``column`` reads above the better of identity and bicubic in ``bucket``."""
    values = [table[c].get(bucket, {}).get("accuracy") for c in (column, "identity", "bicubic")]
    if None in values:
        return None
    return round(100 * (values[0] - max(values[1:])), 1)


def markdown(report: dict) -> str:
    lines = [f"Dev set `{Path(report['settings']['data']).name}`, SGENet judged alone (`--keep restored`); "
             f"word accuracy % by LR text height; *gap* = share of the engine-alone -> HR gap closed on "
             f"words <= 12 px. `{FULL_PROTOCOL}`: every word; other protocols: the first "
             f"{report['settings']['limit'] or 'all'}.", ""]
    lines += summary_table(report["results"]) + [""]
    for protocol in report["settings"]["protocols"]:
        lines += [f"**`{protocol}`**", "",
                  "| recogniser | weights | " + " | ".join(BUCKETS) + " | gap <=12 |",
                  "|---|---|" + "---|" * (len(BUCKETS) + 1)]
        for entry in report["results"]:
            if entry["protocol"] != protocol:
                continue
            table, summary = entry["table"], entry["summary"]
            for column in COLUMNS:
                if column not in table:
                    continue
                cells = [_pct(table[column].get(b)) for b in BUCKETS]
                gap = summary["gap_closed"].get(column)
                gap_text = "" if gap is None else f"{100 * gap:+.0f}%"
                lines.append(f"| {entry['recognizer']} | {column} | " + " | ".join(cells) + f" | {gap_text} |")
        lines.append("")
    return "\n".join(lines)


def summary_table(results: list[dict]) -> list[str]:
    """Words <= 12 px, one row per protocol and recogniser: accuracy of every column and the gap
    closed by the weights the engine runs by default (matched where it has them)."""
    lines = ["**Words <= 12 px**, accuracy %; the default weights against the better of identity and "
             "bicubic, word by word: words fixed / broken, and the sign test's p:", "",
             "| protocol | recogniser | " + " | ".join(COLUMNS) + " | gap closed by the default weights "
             "| fixed / broken vs the bar (p) |",
             "|---|---|" + "---|" * (len(COLUMNS) + 2)]
    for entry in results:
        small, gaps = entry["summary"]["small_accuracy"], entry["summary"]["gap_closed"]
        if small.get("identity") is None:
            continue  # no words this small (textzoom)
        cells = ["-" if small.get(c) is None else f"{100 * small[c]:.1f}" for c in COLUMNS]
        gap = gaps.get("matched", gaps.get("generic"))
        paired = entry["table"].get("paired")
        versus = "-" if not paired else f"{paired['fixed']} / {paired['broken']} vs {paired['bar']} (p {paired['p']:.3f})"
        lines.append(f"| {entry['protocol']} | {entry['recognizer']} | " + " | ".join(cells)
                     + f" | {'-' if gap is None else f'{100 * gap:+.0f}%'} | {versus} |")
    return lines


def _pct(cell: dict | None) -> str:
    if not cell or cell["accuracy"] is None:
        return "-"
    return f"{100 * cell['accuracy']:.1f} ({cell['n']})"


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python benchmarks/model_matrix.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path,
                   default=Path(os.environ.get("SGENET_DATA", "../shared/data")) / "ic15_words_dev")
    p.add_argument("--protocols", default=",".join(PROTOCOLS))
    p.add_argument("--recognizers", default="ppocr,easyocr,tesseract")
    p.add_argument("--matched", action="append", default=[], metavar="RECOGNIZER=WEIGHTS",
                   help="weights to report as a recogniser's matched ones (default: its engine's)")
    p.add_argument("--limit", type=int, default=300, help="first N words of protocols other than half")
    p.add_argument("--min-height", type=int, default=24)
    p.add_argument("--cache", help="JSON file of earlier readings to reuse and extend")
    p.add_argument("--json", type=output_file("--json"), required=True)
    p.add_argument("--markdown", type=output_file("--markdown"))
    return p


def _main(argv: list[str] | None) -> int:
    from sgenet_ocr.evaluate import split_names
    from sgenet_ocr.plugin_manager import PluginHost

    args = build_parser().parse_args(argv)
    protocols, recognizers = split_names(args.protocols, "protocols"), split_names(args.recognizers, "recognizers")
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    overrides = {}
    for item in args.matched:
        recognizer, sep, weights = item.partition("=")
        if not sep or not recognizer or not weights:
            raise UsageError(f"--matched {item!r}: expected RECOGNIZER=WEIGHTS")
        overrides[recognizer] = weights
    host = PluginHost()
    matched = {r: matched_weights(host, r, overrides) for r in recognizers}  # one engine load each
    results = []
    for protocol in protocols:
        for recognizer in recognizers:
            print(f"{protocol} / {recognizer} ...", file=sys.stderr, flush=True)
            table = measure(args.data, protocol, recognizer, host, matched[recognizer],
                            args.limit, args.min_height, args.cache)
            results.append({"protocol": protocol, "recognizer": recognizer, "table": table,
                            "summary": summarise(protocol, recognizer, table)})
    report = {"settings": {"data": str(args.data), "protocols": protocols, "recognizers": recognizers,
                           "limit": args.limit, "min_height": args.min_height, "keep": "restored",
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
              "results": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(report) + "\n")
    print(markdown(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("model_matrix", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
