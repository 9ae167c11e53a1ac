"""EasyOCR's own recogniser as a differentiable :class:`~sgenet_ocr.models.prior.SemanticPrior`.

Used as the *loss* recogniser of engine-matched training (``loss.recogniser: easyocr_g2``): the
text-focus losses then reward SR output that EasyOCR itself reads, not PP-OCRv4. It is the
``english_g2`` CRNN of the shared reader (``quantize=False``: dynamic int8 has no gradients),
on EasyOCR's input: grey (ITU-R 601 luma, as ``cv2.COLOR_RGB2GRAY``), 64 px tall with the
width scaled alike (bilinear, what EasyOCR's resize amounts to), padded to a whole number of
heights by repeating the last column, values in [-1, 1]. Its charset is the reader's, blank
first. By default it is EasyOCR's first pass. The training losses read with it as the engine
runs it (``models.prior.create_reader``): ``second_pass=True`` adds what the engine does next, a
crop read with confidence below 0.1 is read again after easyocr's contrast stretch and the more
confident reading is the crop's (on small words that pass decides many readings), and
``uint8=True`` rounds to the engine's 256 grey levels where it does (MODEL_CARD.md, stage 13).

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

from sgenet_ocr.models.amp import fp32_recurrent
from sgenet_ocr.models.charset import BLANK
from sgenet_ocr.models.prior import SemanticPrior, uint8_levels

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

    def __init__(self, model_dir: str | None = None, second_pass: bool = False, uint8: bool = False):
        super().__init__()
        self.net, self.charset = load_english_g2(model_dir)
        self.second_pass = second_pass
        self.uint8 = uint8
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1), persistent=False)
        self.freeze()

    def levels(self, x: torch.Tensor, rounding=torch.round) -> torch.Tensor:
        """With ``uint8``: ``x`` at the engine's 256 grey levels (it rounds there, or truncates)."""
        return uint8_levels(x, rounding) if self.uint8 else x

    def line(self, images: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] (N, 3, H, W) -> grey lines at the recogniser's height, unpadded, in [0, 1]."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images (N, 3, H, W), got {tuple(images.shape)}")
        grey = self.levels((images * self.luma.to(images.dtype)).sum(1, keepdim=True))
        h, w = grey.shape[-2:]
        width = max(1, int(self.input_height * w / h))
        return self.levels(F.interpolate(grey, size=(self.input_height, width), mode="bilinear", align_corners=False))

    def pad(self, line: torch.Tensor, ratio: float) -> torch.Tensor:
        """EasyOCR pads each line to a whole number of heights by repeating its last column."""
        padded = math.ceil(max(ratio, 1.0)) * self.input_height
        if padded > line.shape[-1]:
            line = F.pad(line, (0, padded - line.shape[-1], 0, 0), mode="replicate")
        return (line.clamp(0, 1) - self.mean) / self.std

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        return self.pad(self.line(images), images.shape[-1] / images.shape[-2])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        line = self.line(images)
        ratio = images.shape[-1] / images.shape[-2]
        probs = fp32_recurrent(self.net, self.pad(line, ratio), None).softmax(-1)  # its BiLSTM
        if not self.second_pass:
            return probs
        with torch.no_grad():
            unsure = confidence(probs) < CONTRAST_THS
        if not unsure.any():
            return probs
        stretched = stretch_contrast(line[unsure])
        # easyocr casts the stretched float image to uint8: truncation
        again = fp32_recurrent(self.net, self.pad(self.levels(stretched, torch.floor), ratio), None).softmax(-1)
        with torch.no_grad():
            # the engine keeps the first reading only when it is strictly more confident
            take = confidence(again) >= confidence(probs[unsure])
        chosen = torch.where(take[:, None, None], again, probs[unsure])
        return probs.index_put((unsure.nonzero(as_tuple=True)[0],), chosen)


# easyocr's defaults for its second pass (easyocr.recognition.get_text, adjust_contrast_grey).
CONTRAST_THS, CONTRAST_TARGET = 0.1, 0.5


def confidence(probs: torch.Tensor) -> torch.Tensor:
    """easyocr's confidence per crop: the best probabilities of the non-blank steps, ``p``,
    combined as ``prod(p) ** (2 / sqrt(len(p)))``; 0 for a crop with no such step."""
    best, index = probs.max(-1)
    kept = index != 0
    count = kept.sum(-1)
    log_prod = torch.where(kept, best.clamp_min(1e-30).log(), torch.zeros_like(best)).sum(-1)
    value = torch.exp(log_prod * 2 / count.clamp_min(1).float().sqrt())
    return torch.where(count > 0, value, torch.zeros_like(value))


def stretch_contrast(line: torch.Tensor) -> torch.Tensor:
    """easyocr's ``adjust_contrast_grey`` (target 0.5) on grey lines in [0, 1]: a line whose 10th
    to 90th percentile spread is low gets those levels stretched; differentiable in the pixels."""
    grey = line * 255
    flat = grey.flatten(1)
    high = torch.quantile(flat, 0.9, dim=1).view(-1, 1, 1, 1)
    low = torch.quantile(flat, 0.1, dim=1).view(-1, 1, 1, 1)
    contrast = (high - low) / (high + low).clamp_min(10)
    stretched = ((grey - low + 25) * 200 / (high - low).clamp_min(10)).clamp(0, 255)
    return torch.where(contrast < CONTRAST_TARGET, stretched, grey) / 255
