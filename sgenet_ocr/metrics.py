"""Scene-text super-resolution metrics.

Definitions (what the evaluation JSON and the model card report):

* **Word accuracy** (TextZoom protocol): prediction and label are lower-cased and reduced to
  the characters ``[0-9a-z]``; a word counts as correct when the two strings are equal.
  Labels that become empty (punctuation only, non-Latin) are skipped, not counted.
* **PSNR**: ``10 * log10(255^2 / MSE)`` over all pixels and the three RGB channels of
  ``uint8`` images of equal size, per image, then averaged over images (identical images
  give ``inf``, which is clipped to 100 dB so means stay finite).
* **SSIM**: Wang et al. 2004 with an 11x11 Gaussian window (sigma 1.5), ``K1 = 0.01``,
  ``K2 = 0.03`` and data range 255, computed on each RGB channel, averaged over the
  channels and over the valid window positions of the image, then over images.
* **Paired change** of two readings of the same words: *fixed* words (only the second reading
  is right), *broken* ones (only the first), and the exact two-sided sign test's p, how often a
  split at least this uneven appears when neither reading is better.
"""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

import numpy as np

_NON_ALNUM = re.compile(r"[^0-9a-z]")
PSNR_CAP_DB = 100.0


def normalize_text(text: str) -> str:
    """TextZoom comparison form: lower case, only ``[0-9a-z]``."""
    return _NON_ALNUM.sub("", text.lower())


def word_correct(prediction: str, label: str) -> bool | None:
    """True/False under the TextZoom protocol; None when the label is skipped (empty)."""
    target = normalize_text(label)
    if not target:
        return None
    return normalize_text(prediction) == target


def word_accuracy(predictions: Sequence[str], labels: Sequence[str]) -> tuple[float, int]:
    """``(accuracy, counted words)``; accuracy is NaN when no label survives normalisation."""
    verdicts = [word_correct(p, l) for p, l in zip(predictions, labels)]
    counted = [v for v in verdicts if v is not None]
    if not counted:
        return float("nan"), 0
    return sum(counted) / len(counted), len(counted)


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two equal-size ``uint8`` images (see module doc)."""
    _check_pair(a, b)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * math.log10(255.0**2 / mse))


_WINDOW = np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2)
_WINDOW /= _WINDOW.sum()  # 11-tap Gaussian, sigma 1.5


def _gaussian_blur(image: np.ndarray) -> np.ndarray:
    """Separable 11x11 Gaussian, edges mirrored, output the size of the input."""
    padded = np.pad(image, 5, mode="symmetric")
    h, w = image.shape
    rows = sum(k * padded[i:i + h, :] for i, k in enumerate(_WINDOW))
    return sum(k * rows[:, i:i + w] for i, k in enumerate(_WINDOW))


def _ssim_channel(x: np.ndarray, y: np.ndarray) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = _gaussian_blur
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    ssim_map = num / den
    # Keep only positions where the whole window lies inside the image (when it fits).
    pad = 5
    if ssim_map.shape[0] > 2 * pad and ssim_map.shape[1] > 2 * pad:
        ssim_map = ssim_map[pad:-pad, pad:-pad]
    return float(ssim_map.mean())


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two equal-size RGB ``uint8`` images (see module doc)."""
    _check_pair(a, b)
    x, y = a.astype(np.float64), b.astype(np.float64)
    if x.ndim == 2:
        return _ssim_channel(x, y)
    return float(np.mean([_ssim_channel(x[..., c], y[..., c]) for c in range(x.shape[2])]))


def mean(values: Iterable[float]) -> float:
    """Average that returns NaN for an empty input instead of raising."""
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def sign_test(fixed: int, broken: int) -> float:
    """Exact two-sided p of a fixed/broken split at least this uneven when both are equally likely."""
    changed = fixed + broken
    if changed == 0:
        return 1.0
    tail = sum(math.comb(changed, k) for k in range(min(fixed, broken) + 1)) / 2 ** changed
    return min(1.0, 2 * tail)


def paired_change(before: Sequence[bool], after: Sequence[bool]) -> tuple[int, int, float]:
    """``(fixed, broken, p)`` of two right/wrong verdicts on the same words, in the same order."""
    if len(before) != len(after):
        raise ValueError(f"paired verdicts differ in length: {len(before)} vs {len(after)}")
    fixed = sum(bool(a) and not b for b, a in zip(before, after))
    broken = sum(bool(b) and not a for b, a in zip(before, after))
    return fixed, broken, sign_test(fixed, broken)
