"""How confident must an engine's reading of the original crop be to keep it without restoring?

    python benchmarks/trust.py --data ../shared/data/ic15_words_dev --protocol half \
        --engines rapidocr,easyocr,tesseract --json trust.json --markdown trust.md

For every LR word crop of the protocol the engine reads the original (as the pipeline does
first), SGENet restores it (``--restorer``; guided by the engine's own probabilities where it
provides them) and the engine reads the restored crop. Then, for each threshold, the pipeline's
``confident`` keep policy with that trusted confidence (:mod:`sgenet_ocr.keep`) picks each
word's reading: word accuracy overall and on words <= 12 px, and the share of crops that
would be restored. Threshold ``none`` restores every crop (the policy without trust);
``identity`` is the engine alone. The engines' ``trusted_confidence`` defaults come from here.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import word_crops  # noqa: E402
from benchmarks.word_crops import read, read_and_restore, run_per_engine  # noqa: E402
from sgenet_ocr.cli import run_cli  # noqa: E402
from sgenet_ocr.keep import keep_policy  # noqa: E402
from sgenet_ocr.metrics import word_correct  # noqa: E402

THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, None)


def log(msg: str) -> None:
    print(f"[trust {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def measure(host, engine_name: str, restorer, samples) -> dict:
    engine = host.engines.create(engine_name)
    try:
        originals, restored, guided = read_and_restore(engine, restorer, [s.lr for s in samples])
        rereads, _ = read(engine, restored)
        small = [i for i, s in enumerate(samples) if s.lr.shape[0] <= 12]

        def accuracy(texts, idx):
            return round(100 * float(np.mean([word_correct(texts[i], samples[i].label) for i in idx])), 2)

        everyone = range(len(samples))
        rows = [{"trust": "identity", "accuracy": accuracy([t for t, _ in originals], everyone),
                 "accuracy_le12": accuracy([t for t, _ in originals], small), "restored_share": 0.0}]
        for threshold in THRESHOLDS:
            policy = keep_policy("confident", threshold)
            kept, _ = policy.apply(originals, rereads)
            texts = [t for t, _ in kept]
            rows.append({"trust": "none" if threshold is None else threshold,
                         "accuracy": accuracy(texts, everyone), "accuracy_le12": accuracy(texts, small),
                         "restored_share": round(float(np.mean([not policy.trusts(o) for o in originals])), 3)})
            log(f"{engine_name}: {rows[-1]}")
        return {"engine": engine_name, "guided": guided, "default": getattr(engine, "trusted_confidence", None),
                "words": len(samples), "words_le12": len(small), "rows": rows}
    finally:
        engine.close()


def markdown(report: dict) -> str:
    s = report["settings"]
    lines = [f"# Trusted confidence ({s['data']}, `{s['protocol']}`, {s['restorer']}, {s['date']})", "",
             "Word accuracy % overall / on words <= 12 px, and the share of crops restored, when an "
             "original reading at least `trust` confident is kept without restoring (`none`: every "
             "crop restored; `identity`: the engine alone). **Bold**: the engine's default.", "",
             "| engine | trust | accuracy % | <= 12 px % | restored |", "|---|---|---:|---:|---:|"]
    for result in report["engines"]:
        for row in result["rows"]:
            mark = "**" if row["trust"] == (result["default"] if result["default"] is not None else "none") else ""
            lines.append(f"| {result['engine']} | {mark}{row['trust']}{mark} | {row['accuracy']} | "
                         f"{row['accuracy_le12']} | {100 * row['restored_share']:.0f}% |")
    return "\n".join(lines) + "\n"


def build_parser():
    return word_crops.build_parser("trust.py", __doc__.splitlines()[0], "rapidocr,easyocr,tesseract", "sgenet-onnx")


def _main(argv) -> int:
    run_per_engine(build_parser().parse_args(argv), measure, markdown, threads=1)
    return 0


def main(argv=None) -> int:
    return run_cli("trust", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
