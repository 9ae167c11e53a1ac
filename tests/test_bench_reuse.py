"""Shared work in the benchmark must not change results: memoised restoration."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.reuse import MemoRestorer, same_pixels  # noqa: E402
from sgenet_ocr.imaging import pixels_key  # noqa: E402
from sgenet_ocr.restorers import BicubicRestorer  # noqa: E402


def crops():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (12, 40, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (9, 30, 3), dtype=np.uint8)
    return a, b


def test_memo_restorer_gives_the_inner_restorers_output_and_restores_each_crop_once():
    a, b = crops()
    memo = MemoRestorer(BicubicRestorer())
    first = memo.restore([a, b, a.copy()])
    direct = BicubicRestorer().restore([a, b, a])
    assert all(np.array_equal(x, y) for x, y in zip(first, direct))
    assert len(memo._memo) == 2  # the copy of a has the same pixels: restored once
    assert memo.charged_seconds >= memo.spent_seconds > 0
    memo.reset_clock()
    again = memo.restore([b])
    assert np.array_equal(again[0], direct[1])
    assert memo.spent_seconds == 0 and memo.charged_seconds > 0  # reused, still charged
    assert (memo.name, memo.scale) == ("bicubic", 2)


def test_pixels_key_distinguishes_shape_and_content():
    a, _ = crops()
    assert pixels_key(a) == pixels_key(a.copy())
    assert pixels_key(a) != pixels_key(a.reshape(40, 12, 3))
    changed = a.copy()
    changed[0, 0, 0] ^= 1
    assert pixels_key(a) != pixels_key(changed)
    assert same_pixels(a, a.copy()) and not same_pixels(a, changed)
