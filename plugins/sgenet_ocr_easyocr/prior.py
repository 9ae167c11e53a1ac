"""EasyOCR's own recogniser as a differentiable :class:`~sgenet_ocr.models.prior.SemanticPrior`.

Used as the *loss* recogniser of engine-matched training (``loss.recogniser: easyocr_g2``): the
text-focus losses then reward SR output that EasyOCR itself reads, not PP-OCRv4. It is the
``english_g2`` CRNN of the shared reader (``quantize=False``: dynamic int8 has no gradients),
on EasyOCR's input: grey (ITU-R 601 luma, as ``cv2.COLOR_RGB2GRAY``), 64 px tall with the
width scaled alike (bilinear, what EasyOCR's resize amounts to), padded to a whole number of
heights by repeating the last column, values in [-1, 1]. Its charset is the reader's, blank
first. It is EasyOCR's first pass: the engine reads low-confidence crops again after a
contrast stretch, which a loss does not need.

The network is built from easyocr's own class and weights file, not through a ``Reader``: that
needs torch and torchvision only, so the GPU kit can carry it (easyocr's network code, the
weights, and ``$SGENET_EASYOCR_MODELS`` pointing at them) to a machine without easyocr's other
dependencies.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from sgenet_ocr.models.charset import BLANK
from sgenet_ocr.models.prior import SemanticPrior

LUMA = (0.299, 0.587, 0.114)
MODELS_ENV = "SGENET_EASYOCR_MODELS"  # a folder holding english_g2.pth (the GPU kit's copy)
G2_NAME = "english_g2"
# english_g2's layer sizes: easyocr writes them in its Reader, not in its model table.
G2_NETWORK = {"input_channel": 1, "output_channel": 256, "hidden_size": 256}


def english_g2_weights(model_dir: str | Path | None = None) -> Path:
    """The ``english_g2.pth`` file: in ``model_dir``; by default ``$SGENET_EASYOCR_MODELS``, else
    the offline weights package's folder (what the easyocr engine reads with)."""
    from easyocr.config import recognition_models

    if model_dir is None:
        from .engine import default_model_dir

        model_dir = os.environ.get(MODELS_ENV) or default_model_dir()
    return Path(model_dir) / recognition_models["gen2"][G2_NAME]["filename"]


def load_english_g2(model_dir: str | Path | None = None) -> tuple[torch.nn.Module, list[str]]:
    """english_g2 as the easyocr engine builds it (its network class, float weights) and its
    charset, blank first; ``model_dir`` as in :func:`english_g2_weights`."""
    from easyocr.config import recognition_models
    from easyocr.model.vgg_model import Model

    charset = [BLANK, *recognition_models["gen2"][G2_NAME]["characters"]]
    state = torch.load(english_g2_weights(model_dir), map_location="cpu", weights_only=True)
    with torch.random.fork_rng():  # its random init is overwritten: leave the global RNG alone
        net = Model(num_class=len(charset), **G2_NETWORK)
    # saved from a DataParallel wrapper: every key starts with "module."
    net.load_state_dict({key.removeprefix("module."): value for key, value in state.items()})
    return net.float(), charset


class EasyOCRPrior(SemanticPrior):
    name = "easyocr_g2"
    input_height = 64
    mean = 0.5
    std = 0.5

    def __init__(self, model_dir: str | None = None):
        super().__init__()
        self.net, self.charset = load_english_g2(model_dir)
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
