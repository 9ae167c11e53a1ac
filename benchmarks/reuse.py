"""Work the end-to-end benchmark shares between restorers and engines, and how it is charged.

Nothing here changes a result; it only avoids computing the same thing twice:

* :class:`MemoRestorer` remembers each restored crop by its pixels. The ground-truth crops of a
  page are the same for every engine, so each restorer restores them once; every engine is
  charged the time the restoration took (split evenly over the crops of that call).
* :class:`SharedReader` reads every crop once through the engine; a crop the stage returns
  pixel-identical (not selected, or the identity restorer) keeps that reading and is charged its
  share of that batch's time. Only crops the restorer changed are read again.

Both rely on restorers and engines being deterministic per crop, which the project's restorers
document (``sgenet``: batching never changes a crop's output).
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from sgenet_ocr.imaging import pixels_key
from sgenet_ocr.restorers import Restorer
from sgenet_ocr.stage import RestorationStage


class MemoRestorer(Restorer):
    """Wraps a restorer; restores each distinct crop once and charges its time on every reuse."""

    def __init__(self, inner: Restorer):
        self.inner = inner
        self.name, self.scale = inner.name, inner.scale
        self._memo: dict[str, tuple[np.ndarray, float]] = {}
        self.charged_seconds = 0.0  # restoration time of the crops returned since the last reset
        self.spent_seconds = 0.0  # time really spent in the inner restorer since the last reset

    def reset_clock(self) -> None:
        self.charged_seconds = self.spent_seconds = 0.0

    def restore(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        keys = [pixels_key(c) for c in crops]
        missing = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if missing:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            t0 = time.perf_counter()
            restored = self.inner.restore([crops[first[k]] for k in missing])
            spent = time.perf_counter() - t0
            self.spent_seconds += spent
            for k, out in zip(missing, restored):
                self._memo[k] = (out, spent / len(missing))
        self.charged_seconds += sum(self._memo[k][1] for k in keys)
        return [self._memo[k][0] for k in keys]

    def forget(self) -> None:
        """Drop remembered crops (between datasets or scales, to bound memory)."""
        self._memo.clear()

    def close(self) -> None:
        self.inner.close()


class SharedReader:
    """Reads crops through a pipeline's engine, sharing readings of unchanged crops."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def read_all(self, crops: list[np.ndarray]) -> tuple[list[tuple[str, float]], list[float]]:
        """Readings of every crop and each crop's share of the batch time."""
        t0 = time.perf_counter()
        readings = self.pipeline.recognize(crops)  # colour order, count check, plugin errors
        each = (time.perf_counter() - t0) / len(crops) if crops else 0.0
        return readings, [each] * len(crops)

    def through_stage(self, stage: RestorationStage, crops: list[np.ndarray], quads: list[np.ndarray],
                      base: tuple[list, list[float]]):
        """``(readings, restored flags, outputs, restore seconds, recognise seconds)``.

        The restore seconds are the stage's wall time with memoised restorations charged at
        the time they took when first computed.
        """
        base_readings, base_cost = base
        memo = stage.restorer if isinstance(stage.restorer, MemoRestorer) else None
        if memo:
            memo.reset_clock()
        t0 = time.perf_counter()
        out, flags = stage.apply(crops, quads) if crops else ([], [])
        restore_s = time.perf_counter() - t0
        if memo:
            restore_s += memo.charged_seconds - memo.spent_seconds
        fresh = [i for i, (a, b) in enumerate(zip(crops, out)) if not same_pixels(a, b)]
        readings = list(base_readings)
        reused = set(range(len(crops))) - set(fresh)
        recognize_s = sum(base_cost[i] for i in reused)
        if fresh:
            t1 = time.perf_counter()
            new = self.pipeline.recognize([out[i] for i in fresh])
            recognize_s += time.perf_counter() - t1
            for i, r in zip(fresh, new):
                readings[i] = r
        return readings, flags, out, restore_s, recognize_s


def same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and np.array_equal(a, b))
