"""Number formatting shared by every markdown report (evaluation, end-to-end and SR benchmarks)."""
from __future__ import annotations

import math

MISSING = "–"  # a score that does not exist (no words in the bucket, no PSNR for a row)


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value, digits: int = 1, missing: str = MISSING) -> str:
    """A fraction as a percentage without the sign: 0.6612 -> ``66.1``."""
    return missing if is_missing(value) else f"{100 * value:.{digits}f}"


def num(value, digits: int = 3, missing: str = MISSING) -> str:
    return missing if is_missing(value) else f"{value:.{digits}f}"
