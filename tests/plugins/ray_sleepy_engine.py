"""A test-only engine for the Ray batch tests: deterministic, cheap, and as slow as asked.

``sleepy`` "detects" the bounding box of the dark pixels (one word) after sleeping ``delay``
seconds (default 0.5), and "reads" a crop as its size, so a batch run can be interrupted
mid-way and its rows compared with a one-by-one run. With ``crash_height=H`` its process dies
on pages H pixels tall, as a crash in an engine's native code would kill it.
"""
import os
import time

import numpy as np

from sgenet_ocr import hookimpl
from sgenet_ocr.engine import OcrEngine


class SleepyEngine(OcrEngine):
    name = "sleepy"
    color_order = "RGB"
    preferred_restorer = "bicubic"  # no model to load

    def __init__(self, delay: float = 0.5, crash_height: int | None = None, **_):
        self.delay = float(delay)
        self.crash_height = crash_height

    def detect(self, image):
        if image.shape[0] == self.crash_height:
            os._exit(1)
        time.sleep(self.delay)
        ys, xs = np.nonzero(image.min(axis=2) < 100)
        if not len(xs):
            return []
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        return [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)]

    def recognize(self, crops):
        return [(f"{c.shape[1]}x{c.shape[0]}", 0.5 + c.shape[0] / 1000) for c in crops]


@hookimpl
def register_engines(register):
    register("sleepy", SleepyEngine)
