"""A test-only engine plugin for exercising the plugin mechanism (never an engine's own tests).

``boxes`` detects dark rectangles' bounding boxes with a threshold; ``sizer`` "reads" a crop as
its size, so tests can see exactly what the restoration stage handed to recognition.
"""
import numpy as np

from sgenet_ocr import hookimpl
from sgenet_ocr.engine import OcrEngine


class SizerEngine(OcrEngine):
    name = "sizer"
    color_order = "BGR"

    def __init__(self, **options):
        self.options = options
        self.preferred_restorer = options.get("preferred_restorer")
        self.preferred_weights = options.get("preferred_weights")
        self.seen_orders = []

    def detect(self, image):
        dark = image.min(axis=2) < 100
        if not dark.any():
            return []
        quads = []
        # Each dark blob's columns, split on empty columns: good enough for drawn rectangles.
        cols = dark.any(axis=0)
        edges = np.flatnonzero(np.diff(np.r_[0, cols.astype(int), 0]))
        for x0, x1 in zip(edges[::2], edges[1::2]):
            rows = np.flatnonzero(dark[:, x0:x1].any(axis=1))
            y0, y1 = rows.min(), rows.max() + 1
            quads.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32))
        return quads

    def recognize(self, crops):
        return [(f"{c.shape[1]}x{c.shape[0]}", self._confidence(c.shape[0])) for c in crops]

    def _confidence(self, height: int) -> float:
        """``prefer``: "taller" or "shorter" crops read more confidently (tests of keep="confident")."""
        prefer = self.options.get("prefer")
        if prefer == "taller":
            return height / (height + 10)
        if prefer == "shorter":
            return 10 / (height + 10)
        return 0.5


@hookimpl
def register_engines(register):
    register("sizer", SizerEngine)
