"""EasyOCR's own recogniser as a differentiable :class:`~sgenet_ocr.models.prior.SemanticPrior`.

Used as the *loss* recogniser of engine-matched training (``loss.recogniser: easyocr_g2``): the
text-focus losses then reward SR output that EasyOCR itself reads, not PP-OCRv4. It is the
``english_g2`` CRNN of the shared reader (``quantize=False``: dynamic int8 has no gradients),
on EasyOCR's input: grey (ITU-R 601 luma, as ``cv2.COLOR_RGB2GRAY``), 64 px tall with the
width scaled alike (bilinear, what EasyOCR's resize amounts to), padded to a whole number of
heights by repeating the last column, values in [-1, 1]. Its charset is the reader's, blank
first. It is EasyOCR's first pass: the engine reads low-confidence crops again after a
contrast stretch, which a loss does not need.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sgenet_ocr.models.charset import BLANK
from sgenet_ocr.models.prior import SemanticPrior

LUMA = (0.299, 0.587, 0.114)


class EasyOCRPrior(SemanticPrior):
    name = "easyocr_g2"
    input_height = 64
    mean = 0.5
    std = 0.5

    def __init__(self, model_dir: str | None = None):
        super().__init__()
        from .engine import load_reader

        reader = load_reader(("en",), "cpu", model_dir, quantize=False)
        import copy

        self.net = copy.deepcopy(reader.recognizer).float()  # our own copy: .to(device) and train mode stay ours
        self.charset = [BLANK, *reader.character]
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1), persistent=False)
        self.freeze()

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images (N, 3, H, W), got {tuple(images.shape)}")
        grey = (images * self.luma.to(images.dtype)).sum(1, keepdim=True)
        h, w = grey.shape[-2:]
        ratio = w / h
        width = max(1, int(self.input_height * ratio))
        grey = F.interpolate(grey, size=(self.input_height, width), mode="bilinear", align_corners=False)
        # EasyOCR pads each line to a whole number of heights by repeating its last column.
        padded = math.ceil(max(ratio, 1.0)) * self.input_height
        if padded > width:
            grey = F.pad(grey, (0, padded - width, 0, 0), mode="replicate")
        return (grey.clamp(0, 1) - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.net(self.preprocess(images), None)
        return logits.softmax(-1)
