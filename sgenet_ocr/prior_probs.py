"""Prior probabilities an engine provides: the recogniser's per-step character probabilities
from the engine's own recognition pass, used by SGENet in place of running its prior again.

Engines (``OcrEngine.recognize_with_probs``) use :func:`covered_steps`, :func:`columns_for`,
:func:`reduce_probs` and, when their steps are not the prior's, :func:`resample_steps`;
restorers use :func:`fit_steps` to lay them out as the prior would have for a padded batch.

Why it works: for RapidOCR and PaddleOCR the engine's recogniser *is* the prior (PP-OCRv4 rec).
The engine reads the original crop at its own size, the prior the crop resized to 16 px; both
resize to height 48 keeping the aspect ratio, so step ``t`` covers the same part of the word.
EasyOCR's recogniser is another network with finer steps: its probabilities stand in for the
prior's after :func:`resample_steps`, at a measured cost (``benchmarks/results/engine_prior_parity*``).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

import numpy as np


def recognizer_steps(height: int, width: int, input_height: int = 48, step_width: int = 8) -> int:
    """Output steps of a CTC recogniser that resizes an image to ``input_height`` (aspect ratio
    kept) and gives one step per ``step_width`` columns (PP-OCRv4: 48 px high, 8 px per step)."""
    return max(1, math.ceil(math.ceil(input_height * width / max(height, 1)) / step_width))


def covered_steps(crop_height: int, crop_width: int, total_steps: int, input_height: int = 48,
                  step_width: int = 8) -> int:
    """How many of a recogniser's ``total_steps`` output steps cover a crop that it resized and
    zero-padded on the right to the batch's width (the rest read the padding)."""
    return min(total_steps, recognizer_steps(crop_height, crop_width, input_height, step_width))


def columns_for(source: Sequence[str], target: Sequence[str]) -> list[int]:
    """:func:`~sgenet_ocr.models.charset.charset_columns`, worked out once per pair of charsets
    (an engine asks on every recognition call)."""
    return _columns(tuple(source), tuple(target))


@lru_cache(maxsize=8)
def _columns(source: tuple[str, ...], target: tuple[str, ...]) -> list[int]:
    from .models.charset import charset_columns

    return charset_columns(source, target)


def reduce_probs(probs: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Per-step probabilities ``(T, C_full)`` -> ``(T, len(columns))``, each step renormalised (what
    :class:`~sgenet_ocr.models.prior.PPOCRv4Prior` does to its own output)."""
    kept = np.asarray(probs, dtype=np.float32)[:, np.asarray(columns)]
    return kept / np.maximum(kept.sum(axis=-1, keepdims=True), np.float32(1e-8))


def resample_steps(probs: np.ndarray, steps: int) -> np.ndarray:
    """``(T, C)`` per-step probabilities laid out on ``steps`` rows over the same stretch of the
    word, for a recogniser whose steps are finer or coarser than the prior's (EasyOCR: one per
    4 columns at height 64). CTC emits each character as a spike on one step amid blanks, so
    each row takes, over the source steps it covers, the largest probability of every character
    and the smallest of the blank, then is renormalised: a spike survives the resampling
    (averaging would dilute it under the blank)."""
    probs = np.asarray(probs, dtype=np.float32)
    if len(probs) == steps:
        return probs
    source = len(probs)
    owner = np.minimum(((np.arange(source) + 0.5) * steps / source).astype(int), steps - 1)  # one row each
    rows = np.empty((steps, probs.shape[1]), dtype=np.float32)
    for row in range(steps):
        window = probs[owner == row]
        if not len(window):  # more rows than source steps: the nearest one
            window = probs[min(int((row + 0.5) * source / steps), source - 1)][None]
        rows[row, 1:] = window[:, 1:].max(axis=0)
        rows[row, 0] = window[:, 0].min()
    return rows / np.maximum(rows.sum(axis=-1, keepdims=True), np.float32(1e-8))


def fit_steps(probs: np.ndarray, steps: int) -> np.ndarray:
    """``probs`` cut or padded to ``steps`` rows. Padding rows are a certain blank (class 0):
    the prior reads a batch's padding (the crop's last column repeated) as no text."""
    probs = np.asarray(probs, dtype=np.float32)
    if len(probs) >= steps:
        return probs[:steps]
    pad = np.zeros((steps - len(probs), probs.shape[1]), dtype=np.float32)
    pad[:, 0] = 1.0
    return np.concatenate([probs, pad])


def prior_steps(lr_width: int, lr_height: int = 16, input_height: int = 48, step_width: int = 8) -> int:
    """Steps the ``ppocrv4_rec`` prior gives for an LR batch ``lr_height`` x ``lr_width``
    (:func:`recognizer_steps`). Exact for the restorers' 16 px width buckets, within one step
    elsewhere (the network's own rounding)."""
    return recognizer_steps(lr_height, lr_width, input_height, step_width)


def prior_charset(config: dict) -> list[str] | None:
    """The classes an exported model's prior predicts, from its ``sgenet_config``; ``None`` when
    not known without loading the prior (only ``ppocrv4_rec`` with its reduced charset is)."""
    from .models.charset import REDUCED_CHARSET

    if config.get("prior") == "ppocrv4_rec" and (config.get("prior_kwargs") or {}).get("reduce_charset", True):
        return list(REDUCED_CHARSET)
    return None
