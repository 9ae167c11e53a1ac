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

import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import word_crops  # noqa: E402
from benchmarks.word_crops import read, restore, run_per_engine  # noqa: E402
from sgenet_ocr.cli import run_cli  # noqa: E402
from sgenet_ocr.evaluation.markdown import pct  # noqa: E402
from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS  # noqa: E402
from sgenet_ocr.evaluation.scoring import make_rows  # noqa: E402
from sgenet_ocr.plugin_manager import PluginHost  # noqa: E402

def log(msg: str) -> None:
    print(f"[parity {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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


def build_parser():
    p = word_crops.build_parser("engine_prior_parity.py", __doc__.splitlines()[0], "rapidocr,paddleocr", "sgenet")
    word_crops.add_restorer_arguments(p)
    return p


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    options = word_crops.restorer_options(args)
    run_per_engine(args, lambda host, name, restorer, samples: compare(name, host, restorer, samples, args.protocol),
                   markdown, **options)
    return 0


def main(argv=None) -> int:
    return run_cli("parity", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
