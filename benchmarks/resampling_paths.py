"""How much does the way a small crop is enlarged change what an engine reads? No restoration.

    python benchmarks/resampling_paths.py --engines rapidocr,tesseract,easyocr --json paths.json

For the words of a protocol (default ``half``) whose LR crop is at most ``--max-height`` px
tall, each engine reads the crop as it is (the engine resizes it itself: RapidOCR and PaddleOCR
with OpenCV's bilinear, straight to their 48 px input) and after a few plain enlargements: one
bilinear or bicubic resize to 32 px (what a x2 restorer outputs), the two steps the SGENet
restorers take before any learning (bicubic to their 16 px input, then bicubic x2), and a
bilinear x2. A path that costs an engine words here costs it the same words under any restorer
built on that path: it is the floor a restorer starts from.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.word_crops import engines_table, read_right, run_small_words, small_words_parser  # noqa: E402
from sgenet_ocr.cli import run_cli  # noqa: E402
from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS, lr_height_bucket  # noqa: E402

OUTPUT_HEIGHT = 32  # a x2 restorer's output height
MODEL_INPUT = 16    # the SGENet restorers' input height
SMALL = ("<=8", "9-12")  # the buckets reported


def to_height(image: np.ndarray, height: int, how: str) -> np.ndarray:
    """``image`` resized to ``height`` px, aspect kept: OpenCV ``linear``/``cubic`` or PIL ``pil-bicubic``."""
    import cv2

    from sgenet_ocr.imaging import resize

    h, w = image.shape[:2]
    width = max(1, round(w * height / h))
    if how == "pil-bicubic":
        return resize(image, width, height)
    return cv2.resize(image, (width, height), interpolation={"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}[how])


def paths() -> dict:
    """name -> enlargement of an LR crop."""
    def sgenet_base(x):  # the SGENet restorers' input (PIL bicubic to 16 px), then bicubic x2
        small = to_height(x, MODEL_INPUT, "pil-bicubic")
        return to_height(small, 2 * MODEL_INPUT, "pil-bicubic")

    return {
        "as is": lambda x: x,
        "bilinear to 32 px": lambda x: to_height(x, OUTPUT_HEIGHT, "linear"),
        "bicubic (OpenCV) to 32 px": lambda x: to_height(x, OUTPUT_HEIGHT, "cubic"),
        "bicubic (PIL) to 32 px": lambda x: to_height(x, OUTPUT_HEIGHT, "pil-bicubic"),
        "bicubic to 16 px, then x2 (SGENet's base)": sgenet_base,
        "bilinear x2": lambda x: to_height(x, 2 * x.shape[0], "linear"),
    }


def measure(host, engine_name: str, samples) -> dict:
    buckets = [lr_height_bucket(s.lr.shape[0]) for s in samples]
    rows = []
    for name, right in read_right(host, engine_name, samples, paths()).items():
        by_bucket = {b: sum(r for r, rb in zip(right, buckets) if rb == b) for b in LR_HEIGHT_BUCKETS}
        rows.append({"path": name, "correct": sum(right),
                     "correct_by_bucket": {b: n for b, n in by_bucket.items() if n or b in SMALL}})
    return {"engine": engine_name, "words": len(samples), "paths": rows}


def markdown(report: dict) -> str:
    s = report["settings"]
    counts = s["words_by_bucket"]
    lines = [f"`{s['protocol']}`, the words of `{Path(s['data']).name}` whose LR crop is <= {s['max_height']} px "
             f"({', '.join(f'{b}: {n}' for b, n in counts.items() if n)}); words read right, <=8 / 9-12 px:", ""]
    lines += engines_table(report["engines"], "paths", "path",
                           lambda row: " / ".join(str(row["correct_by_bucket"].get(b, 0)) for b in SMALL),
                           header="enlargement")
    return "\n".join(lines) + "\n"


def _main(argv: list[str] | None) -> int:
    args = small_words_parser("resampling_paths.py", __doc__.split("\n\n")[0], "half", None).parse_args(argv)
    run_small_words(args, measure, markdown)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("resampling_paths", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
