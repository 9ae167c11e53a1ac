"""Rows of the evaluation JSON: accuracy, PSNR and SSIM per recogniser, restorer and bucket.

Image quality is measured against the HR reference: an output at the LR size (the identity
restorer, or a crop the stage left alone) is first upsampled (bicubic) to the HR size; any other
output is compared with the HR resized (bicubic) to the output's size. The HR row itself has
no PSNR/SSIM (null).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..imaging import resize
from ..metrics import mean, psnr, ssim, word_correct
from .protocols import LR_HEIGHT_BUCKETS, WordPair


def quality(output: np.ndarray, sample: WordPair) -> tuple[float, float]:
    """``(psnr, ssim)`` of a restorer output against the sample's HR (see module doc)."""
    hr = sample.hr
    if output.shape[:2] == sample.lr.shape[:2] and output.shape[:2] != hr.shape[:2]:
        output = resize(output, hr.shape[1], hr.shape[0])
    elif output.shape[:2] != hr.shape[:2]:
        hr = resize(hr, output.shape[1], output.shape[0])
    return psnr(output, hr), ssim(output, hr)


def make_rows(samples: Sequence[WordPair], protocol: str, restorer: str, recognizer: str,
              texts: Sequence[str], scores: Sequence[tuple[float, float]] | None) -> list[dict]:
    """One row per (split, bucket), including ``all`` for both."""
    splits = sorted({s.split for s in samples})
    split_names = ["all"] + [s for s in splits if s != "all"] if len(splits) > 1 else ["all"]
    rows = []
    for split in split_names:
        for bucket in ("all",) + LR_HEIGHT_BUCKETS:
            idx = [i for i, s in enumerate(samples)
                   if (split == "all" or s.split == split) and (bucket == "all" or s.bucket == bucket)]
            verdicts = [word_correct(texts[i], samples[i].label) for i in idx]
            verdicts = [v for v in verdicts if v is not None]
            row = {
                "recognizer": recognizer, "restorer": restorer, "protocol": protocol, "bucket": bucket,
                "n": len(verdicts),
                "accuracy": round(sum(verdicts) / len(verdicts), 4) if verdicts else None,
                "psnr": _rounded(mean(scores[i][0] for i in idx)) if scores is not None and idx else None,
                "ssim": _rounded(mean(scores[i][1] for i in idx), 4) if scores is not None and idx else None,
            }
            if len(split_names) > 1:
                row["split"] = split
            rows.append(row)
    return rows


def _rounded(value: float, digits: int = 3) -> float | None:
    return None if value != value else round(value, digits)  # NaN -> null
