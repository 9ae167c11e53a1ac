"""Do the training losses read restored crops as the engine does? The loss reader vs the engine.

    python benchmarks/loss_reader_parity.py --data ../shared/data/ic15_words_dev --protocol half \
        --engines rapidocr,easyocr --json loss_reader_parity.json [--markdown loss_reader_parity.md]

The text-focus losses of engine-matched training reward what a torch copy of the engine's
recogniser reads (``sgenet_ocr.models.prior.create_reader``). If that copy reads other words than
the engine, the training optimises for a reader no engine runs. For each LR word crop of the
protocol the restorer's output (uint8, as an engine gets it) is read by the engine, by the loss
reader, and by the plain prior (PP-OCRv4 without the engine's 320 px padding, the loss reader
until 2026-11-30). Reported per LR height bucket: each one's word accuracy and the share of crops
on which its text equals the engine's.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import word_crops  # noqa: E402
from benchmarks.word_crops import read, restore, run_per_engine  # noqa: E402
from sgenet_ocr.cli import run_cli  # noqa: E402
from sgenet_ocr.evaluation.markdown import pct  # noqa: E402
from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS  # noqa: E402
from sgenet_ocr.metrics import word_correct  # noqa: E402

# The recogniser each engine's matched weights are trained with (loss.recogniser).
LOSS_READERS = {"rapidocr": "ppocrv4_rec", "paddleocr": "ppocrv4_rec", "easyocr": "easyocr_g2"}


def log(msg: str) -> None:
    print(f"[loss-reader {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def torch_readings(reader, images) -> list[str]:
    """``reader``'s greedy text of each uint8 RGB image (one at a time: each keeps its own width)."""
    import torch

    from sgenet_ocr.data.pairs import to_tensor

    with torch.no_grad():
        return [reader.decode(reader(to_tensor(image)[None]))[0] for image in images]


def compare(engine_name: str, host, restorer, samples) -> dict:
    from sgenet_ocr.models.prior import create_prior, create_reader

    name = LOSS_READERS.get(engine_name)
    if name is None:
        return {"engine": engine_name, "skipped": "no engine-matched loss reader"}
    engine = host.engines.create(engine_name)
    try:
        restored = restore(restorer, [s.lr for s in samples])
        texts = {"engine": [t for t, _ in read(engine, restored)[0]]}
    finally:
        engine.close()
    readers = {"loss reader": create_reader(name)}
    if getattr(readers["loss reader"], "min_width", 0):
        readers["unpadded prior"] = create_prior(name)
    for label, reader in readers.items():
        t0 = time.perf_counter()
        texts[label] = torch_readings(reader, restored)
        log(f"{engine_name}: {label} read {len(restored)} crops in {time.perf_counter() - t0:.0f}s")
    rows = []
    for label, got in texts.items():
        for bucket in ("all",) + LR_HEIGHT_BUCKETS:
            idx = [i for i, s in enumerate(samples) if bucket == "all" or s.bucket == bucket]
            verdicts = [v for v in (word_correct(got[i], samples[i].label) for i in idx) if v is not None]
            same = [got[i] == texts["engine"][i] for i in idx]
            rows.append({"reader": label, "bucket": bucket, "n": len(idx),
                         "accuracy": round(sum(verdicts) / len(verdicts), 4) if verdicts else None,
                         "same_as_engine": round(sum(same) / len(same), 4) if same else None})
    return {"engine": engine_name, "loss_reader": name, "crops": len(samples), "rows": rows}


def markdown(report: dict) -> str:
    s = report["settings"]
    buckets = ("all",) + LR_HEIGHT_BUCKETS
    lines = [f"# Loss reader vs engine on restored crops ({s['data']}, `{s['protocol']}`, {s['restorer']}, "
             f"{s['date']})", "",
             "Word accuracy % (same text as the engine %), by LR height.", "",
             "| engine | reader | " + " | ".join(buckets) + " |", "|---|---|" + "---:|" * len(buckets)]
    for result in report["engines"]:
        if "skipped" in result:
            lines.append(f"| {result['engine']} | skipped: {result['skipped']} |")
            continue
        for label in dict.fromkeys(r["reader"] for r in result["rows"]):
            cells = {r["bucket"]: r for r in result["rows"] if r["reader"] == label}
            shown = [f"{pct(cells[b]['accuracy'])}" + ("" if label == "engine" else f" ({pct(cells[b]['same_as_engine'])})")
                     for b in buckets]
            lines.append(f"| {result['engine']} | {label} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


def build_parser():
    p = word_crops.build_parser("loss_reader_parity.py", __doc__.splitlines()[0], "rapidocr,easyocr", "sgenet")
    word_crops.add_restorer_arguments(p)
    return p


def _main(argv) -> int:
    import torch

    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    options = word_crops.restorer_options(args)
    run_per_engine(args, lambda host, name, restorer, samples: compare(name, host, restorer, samples),
                   markdown, **options)
    return 0


def main(argv=None) -> int:
    return run_cli("loss-reader", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
