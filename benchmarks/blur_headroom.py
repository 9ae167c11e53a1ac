"""Is there anything left to restore in blurred small text? Classical deconvolution at the known blur.

    python benchmarks/blur_headroom.py --engines rapidocr,tesseract --json headroom.json

For the words of a protocol (default ``half-blur``: Gaussian sigma 0.8 px, then JPEG q50) whose
LR crop is at most ``--max-height`` px tall, each engine reads the LR crop as it is, after an
unsharp mask and after Richardson-Lucy deconvolution with the protocol's own blur (the best
case for a classical method: the blur is known exactly), each also after a bicubic x2 first,
and the HR crop. When none of these reads more words than the crop as it is, what the protocol
destroyed cannot be sharpened back: only a model that guesses the letters can help.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.word_crops import engines_table, read_right, run_small_words, small_words_parser  # noqa: E402
from sgenet_ocr.cli import run_cli  # noqa: E402
from sgenet_ocr.errors import UsageError  # noqa: E402
from sgenet_ocr.evaluation.protocols import BLUR_SIGMA  # noqa: E402


def unsharp(image: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    import cv2

    x = image.astype(np.float32)
    return np.clip(x + amount * (x - cv2.GaussianBlur(x, (0, 0), sigma)), 0, 255).astype(np.uint8)


def richardson_lucy(image: np.ndarray, sigma: float, iterations: int) -> np.ndarray:
    """Richardson-Lucy deconvolution of an RGB image with a Gaussian blur of ``sigma`` px (its
    own transpose: the kernel is symmetric)."""
    import cv2

    observed = image.astype(np.float32) / 255.0 + 1e-3
    estimate = observed.copy()
    for _ in range(iterations):
        blurred = cv2.GaussianBlur(estimate, (0, 0), sigma, borderType=cv2.BORDER_REFLECT) + 1e-6
        estimate *= cv2.GaussianBlur(observed / blurred, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return np.clip(estimate * 255.0, 0, 255).astype(np.uint8)


def bicubic_x2(image: np.ndarray) -> np.ndarray:
    from sgenet_ocr.imaging import resize

    return resize(image, image.shape[1] * 2, image.shape[0] * 2)


def variants(sigma: float) -> dict:
    """name -> LR transform; ``None`` stands for the HR crop. After a x2 the blur is 2 sigma."""
    return {
        "as is": lambda x: x,
        f"unsharp s{sigma} x1": lambda x: unsharp(x, sigma, 1.0),
        f"unsharp s{sigma} x2": lambda x: unsharp(x, sigma, 2.0),
        f"richardson-lucy s{sigma} 10 it": lambda x: richardson_lucy(x, sigma, 10),
        f"richardson-lucy s{sigma} 30 it": lambda x: richardson_lucy(x, sigma, 30),
        "bicubic x2": bicubic_x2,
        f"bicubic x2 + unsharp s{2 * sigma} x2": lambda x: unsharp(bicubic_x2(x), 2 * sigma, 2.0),
        f"bicubic x2 + richardson-lucy s{2 * sigma} 20 it": lambda x: richardson_lucy(bicubic_x2(x), 2 * sigma, 20),
        "hr": None,
    }


def measure(host, engine_name: str, samples, sigma: float) -> dict:
    right = read_right(host, engine_name, samples, variants(sigma))
    rows = [{"variant": name, "correct": sum(r), "accuracy": round(sum(r) / len(samples), 4)}
            for name, r in right.items()]
    return {"engine": engine_name, "words": len(samples), "variants": rows}


def markdown(report: dict) -> str:
    s = report["settings"]
    lines = [f"`{s['protocol']}`, the {s['words']} words of `{Path(s['data']).name}` (first {s['limit'] or 'all'}) "
             f"whose LR crop is <= {s['max_height']} px; words read right (%):", ""]
    lines += engines_table(report["engines"], "variants", "variant",
                           lambda row: f"{row['correct']} ({100 * row['accuracy']:.1f})")
    return "\n".join(lines) + "\n"


def _main(argv: list[str] | None) -> int:
    parser = small_words_parser("blur_headroom.py", __doc__.split("\n\n")[0], "half-blur", 300)
    parser.add_argument("--sigma", type=float, default=BLUR_SIGMA, help="the blur to undo, px at LR scale")
    args = parser.parse_args(argv)
    if args.sigma <= 0:
        raise UsageError("--sigma must be above 0")
    run_small_words(args, lambda host, name, words: measure(host, name, words, args.sigma), markdown,
                    sigma=args.sigma)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("blur_headroom", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
