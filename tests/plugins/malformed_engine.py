"""A test-only engine that returns one malformed result (engine option ``fault``) on pages 13 px
wide and reads every other page as one word: one bad page must not cost the batch."""
import numpy as np

from sgenet_ocr import hookimpl
from sgenet_ocr.engine import OcrEngine

FAULTY_WIDTH = 13


class MalformedEngine(OcrEngine):
    name = "malformed"

    def __init__(self, fault: str = "none_confidence"):
        self.fault, self.faulty = fault, False

    def detect(self, image):
        h, w = image.shape[:2]
        self.faulty = w == FAULTY_WIDTH
        if self.faulty and self.fault == "three_points":
            return [np.zeros((3, 2), np.float32)]
        return [np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)]

    def recognize(self, crops):
        if not self.faulty:
            return [("word", 0.9)] * len(crops)
        return {"none_confidence": [("word", None)] * len(crops),
                "nan_confidence": [("word", float("nan"))] * len(crops),
                "not_a_pair": ["word"] * len(crops),
                "too_few": []}[self.fault]


@hookimpl
def register_engines(register):
    register("malformed", MalformedEngine)
