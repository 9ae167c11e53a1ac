"""Parity of engine-provided priors: SGENet guided by the engine's own probabilities vs by its prior.

    python benchmarks/engine_prior_parity.py --data ../shared/data/ic15_words_dev --protocol half \
        --engines rapidocr,paddleocr --restorer sgenet --json parity.json [--markdown parity.md] [--limit N]

For each LR word crop of the protocol, SGENet restores it twice:

* **prior**: SGENet runs its own prior (PP-OCRv4 rec) on the crop resized to 16 px, as for
  engines whose recogniser is not the prior;
* **engine**: the engine reads the LR crop at its own size (``recognize_with_probs``), which
  the pipeline does anyway, and SGENet takes those probabilities instead.

The inputs differ only there: the engine's recogniser sees the original crop, the prior the
16 px one. Reported per engine: the largest and the mean pixel difference between the two
restorations (grey levels), the share of crops whose restorations are identical, and the
engine's word accuracy on each, by LR height bucket (rows as in ``sgenet_ocr.evaluate``).
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from sgenet_ocr.cli import ArgumentParser, run_cli
from sgenet_ocr.evaluation.markdown import pct
from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS, PROTOCOLS, load_samples
from sgenet_ocr.evaluation.scoring import make_rows
from sgenet_ocr.imaging import to_order
from sgenet_ocr.plugin_manager import PluginHost

CHUNK = 64


def log(msg: str) -> None:
    print(f"[parity {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read(engine, crops, charset=None):
    """The engine's readings of RGB crops (and probabilities when ``charset``), in chunks."""
    readings, probs = [], []
    for start in range(0, len(crops), CHUNK):
        chunk = [to_order(c, engine.color_order) for c in crops[start:start + CHUNK]]
        if charset is None:
            readings += engine.recognize(chunk)
        else:
            got, p = engine.recognize_with_probs(chunk, charset)
            readings, probs = readings + got, probs + list(p)
    return readings, probs


def restore(restorer, crops, probs=None):
    out = []
    for start in range(0, len(crops), CHUNK):
        part = crops[start:start + CHUNK]
        if probs is None:
            out += restorer.restore(part)
        else:
            out += restorer.restore(part, prior_probs=probs[start:start + CHUNK])
    return out


def compare(engine_name: str, host: PluginHost, restorer, samples, protocol: str) -> dict:
    engine = host.engines.create(engine_name)
    try:
        if getattr(engine, "recognizer_prior", None) != restorer.guided_by:
            return {"engine": engine_name, "skipped": "its recogniser is not the restorer's prior"}
        lr = [s.lr for s in samples]
        t0 = time.perf_counter()
        by_prior = restore(restorer, lr)
        t1 = time.perf_counter()
        _, probs = read(engine, lr, restorer.prior_charset)
        t2 = time.perf_counter()
        by_engine = restore(restorer, lr, probs)
        t3 = time.perf_counter()
        log(f"{engine_name}: restored {len(lr)} crops with the prior in {t1 - t0:.1f}s, "
            f"with the engine's probabilities in {t3 - t2:.1f}s (reading them: {t2 - t1:.1f}s)")
        diffs = [np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(by_prior, by_engine)]
        texts = {name: [t for t, _ in read(engine, images)[0]]
                 for name, images in (("prior", by_prior), ("engine", by_engine))}
        rows = {name: make_rows(samples, protocol, name, engine_name, t, None) for name, t in texts.items()}
        return {
            "engine": engine_name, "crops": len(lr),
            "guided_crops": sum(p is not None for p in probs),
            "max_pixel_diff": int(max(int(d.max()) for d in diffs)),
            "mean_pixel_diff": round(float(np.mean([d.mean() for d in diffs])), 4),
            "identical_share": round(float(np.mean([not d.any() for d in diffs])), 4),
            "restore_seconds": {"prior": round(t1 - t0, 2), "engine": round(t3 - t2, 2)},
            "rows": rows["prior"] + rows["engine"],
        }
    finally:
        engine.close()


def markdown(report: dict) -> str:
    s = report["settings"]
    lines = [f"# Engine-provided prior vs SGENet's own prior ({s['data']}, `{s['protocol']}`, "
             f"{s['restorer']}, {s['date']})", "",
             "| engine | guidance | " + " | ".join(("all",) + LR_HEIGHT_BUCKETS) + " | max px diff | mean px diff |",
             "|---|---|" + "---:|" * (len(LR_HEIGHT_BUCKETS) + 3)]
    for result in report["engines"]:
        if "skipped" in result:
            lines.append(f"| {result['engine']} | skipped: {result['skipped']} |")
            continue
        for name in ("prior", "engine"):
            acc = {r["bucket"]: r for r in result["rows"] if r["restorer"] == name}
            cells = [f"{pct(acc[b]['accuracy'])} ({acc[b]['n']})" for b in ("all",) + LR_HEIGHT_BUCKETS]
            extra = (f"{result['max_pixel_diff']} | {result['mean_pixel_diff']}" if name == "engine" else " | ")
            lines.append(f"| {result['engine']} | {name} | " + " | ".join(cells) + f" | {extra} |")
    return "\n".join(lines) + "\n"


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python benchmarks/engine_prior_parity.py", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path(os.environ.get("SGENET_DATA", "../shared/data")) / "ic15_words_dev")
    p.add_argument("--protocol", choices=PROTOCOLS, default="half")
    p.add_argument("--engines", default="rapidocr,paddleocr")
    p.add_argument("--restorer", default="sgenet", help="sgenet or sgenet-onnx")
    p.add_argument("--weights", help="weights name or .safetensors (default: the shipped ones)")
    p.add_argument("--limit", type=int, help="first N words only")
    p.add_argument("--threads", type=int, default=1, help="restorer threads (default 1)")
    p.add_argument("--json", type=Path, required=True)
    p.add_argument("--markdown", type=Path)
    return p


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    samples, skipped = load_samples(args.data, args.protocol, args.limit)
    host = PluginHost()
    options = {"threads": args.threads, **({"weights": args.weights} if args.weights else {})}
    restorer = host.restorers.create(args.restorer, **options)
    log(f"{len(samples)} words ({skipped} skipped), restorer {args.restorer}")
    report = {"settings": {"data": str(args.data), "protocol": args.protocol, "restorer": args.restorer,
                           "weights_sha256": getattr(restorer, "weights_sha256", None), "words": len(samples),
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "machine": platform.processor() or platform.machine()},
              "engines": [compare(name.strip(), host, restorer, samples, args.protocol)
                          for name in args.engines.split(",") if name.strip()]}
    restorer.close()
    args.json.write_text(json.dumps(report, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(report))
    print(markdown(report))
    return 0


def main(argv=None) -> int:
    return run_cli("parity", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
