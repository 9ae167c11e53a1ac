"""Scores for the benchmarks: text-height buckets, word accuracy, CER, recall/precision/F1.

``TEXT_HEIGHT_BUCKETS`` sort words by their text height on the (scaled) page; the evaluation's
``LR_HEIGHT_BUCKETS`` (:mod:`sgenet_ocr.evaluation.protocols`) sort word crops by LR height.

Texts are compared in TextZoom form (:func:`sgenet_ocr.metrics.normalize_text`: lower case,
only ``[0-9a-z]``); labels that normalise to empty are not counted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from sgenet_ocr.metrics import normalize_text, paired_change

TEXT_HEIGHT_BUCKETS = ("<=16", "17-32", ">32")
ALL = "all"


def text_height_bucket(height: float) -> str:
    """The bucket of a text height in pixels, rounded to the nearest whole pixel first."""
    h = int(math.floor(height + 0.5))
    if h <= 16:
        return "<=16"
    if h <= 32:
        return "17-32"
    return ">32"


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@dataclass
class Reading:
    """One ground-truth text read by an engine."""

    label: str
    prediction: str
    height: float  # text height in pixels at the benchmark's scale


def recognition_scores(readings: Iterable[Reading]) -> dict[str, dict]:
    """Per bucket and ``all``: ``{"n", "accuracy", "cer"}``; CER sums edits over label chars.

    Buckets without counted words get ``n = 0`` and NaN scores.
    """
    totals = {b: [0, 0, 0, 0] for b in (ALL, *TEXT_HEIGHT_BUCKETS)}  # words, correct, edits, label chars
    for r in readings:
        label = normalize_text(r.label)
        if not label:
            continue
        pred = normalize_text(r.prediction)
        for key in (ALL, text_height_bucket(r.height)):
            t = totals[key]
            t[0] += 1
            t[1] += pred == label
            t[2] += edit_distance(pred, label)
            t[3] += len(label)
    return {key: {"n": n, "accuracy": correct / n if n else math.nan,
                  "cer": edits / chars if chars else math.nan}
            for key, (n, correct, edits, chars) in totals.items()}


def recall_precision_f1(hits: int, ground_truth: int, predictions: int) -> tuple[float, float, float]:
    """NaN for an undefined ratio (no ground truth, no predictions); F1 is 0 when both are 0."""
    recall = hits / ground_truth if ground_truth else math.nan
    precision = hits / predictions if predictions else math.nan
    if math.isnan(recall) or math.isnan(precision):
        f1 = math.nan
    elif recall + precision == 0:
        f1 = 0.0
    else:
        f1 = 2 * recall * precision / (recall + precision)
    return recall, precision, f1


def recall_by_bucket(hit: Sequence[bool], heights: Sequence[float]) -> dict[str, dict]:
    """``{"n", "recall"}`` per bucket and ``all`` for cared-for ground truth."""
    counts = {b: [0, 0] for b in (ALL, *TEXT_HEIGHT_BUCKETS)}
    for h, ok in zip(heights, hit):
        for key in (ALL, text_height_bucket(h)):
            counts[key][0] += 1
            counts[key][1] += bool(ok)
    return {k: {"n": n, "recall": good / n if n else math.nan} for k, (n, good) in counts.items()}


def paired_changes(readings: Sequence[Reading], baseline: Sequence[Reading]) -> dict[str, dict]:
    """Per bucket and ``all``: words a restorer ``fixed`` (baseline wrong, now right) and
    ``broke`` (baseline right, now wrong), for two readings of the same words in the same order.

    Accuracy differences on a few hundred words are noisy; these counts show whether a change
    comes from many words moving both ways or from a one-sided gain, and ``p`` (the exact sign
    test, :func:`sgenet_ocr.metrics.paired_change`) how often chance alone splits them so unevenly.
    """
    if len(readings) != len(baseline):
        raise ValueError(f"paired readings differ in length: {len(readings)} vs {len(baseline)}")
    verdicts: dict[str, tuple[list[bool], list[bool]]] = {b: ([], []) for b in (ALL, *TEXT_HEIGHT_BUCKETS)}
    for now, before in zip(readings, baseline):
        label = normalize_text(now.label)
        if not label:
            continue
        for key in (ALL, text_height_bucket(now.height)):
            verdicts[key][0].append(normalize_text(before.prediction) == label)
            verdicts[key][1].append(normalize_text(now.prediction) == label)
    out = {}
    for bucket, (right_before, right_now) in verdicts.items():
        fixed, broken, p = paired_change(right_before, right_now)
        out[bucket] = {"fixed": fixed, "broken": broken, "p": p}
    return out
