"""Semantic priors: frozen text recognisers that tell SGENet which characters a crop holds.

Interface (:class:`SemanticPrior`): ``charset`` (list of str, index 0 is the CTC blank),
``input_height``, ``mean``/``std`` normalisation, ``forward(images)`` with images ``(N, 3, H, W)``
RGB in [0, 1] of any size -> ``(N, T, C)`` probabilities over ``charset``, and
``decode(probs) -> list[str]`` (greedy CTC). ``forward`` is differentiable down to its input so a
recognition ("text focus") loss can train the super-resolution network through the prior.

The implementation here, ``ppocrv4_rec``, is PaddleOCR's PP-OCRv4 recogniser (SVTR-LCNet, the
closest public relative of the paper's SVTR-tiny) as shipped in the ``rapidocr-onnxruntime``
wheel, so its weights come from a registry package and nothing is downloaded at run time.
The ONNX graph is converted to torch once per process with onnx2torch (after turning
``Constant`` nodes into initializers and running shape inference) and then copied per instance.

Preprocessing replicates RapidOCR's ``TextRecognizer.resize_norm_img``: BGR channel order,
height 48, width ``ceil(48 * w / h)`` with bilinear resizing (``cv2.resize``'s default), values
scaled to [-1, 1] by ``(x - 0.5) / 0.5``. RapidOCR also zero-pads on the right to at least
320 px (40 CTC steps); that is ``min_width=320`` here. The model's guidance prior does not pad
(a third of the compute for short crops, and as accurate on 300 ICDAR 2015 word crops), but the
padding changes what the attention layers see: on small SR crops the unpadded prior reads 45% of
words differently from the engine. Losses and validation therefore read with
:func:`create_reader`, which pads as the engine does: then it gives RapidOCR's text on every
48 px output and on 93% of 32 px ones (``benchmarks/results/loss_reader_parity.md``). The resize
is ``F.interpolate`` so gradients flow; it matches cv2 up to interpolation rounding.

Charset reduction: the model predicts 6625 classes (blank, 6623 characters from the ONNX
metadata key ``character``, and a space). SGENet only needs Latin text, so ``forward`` keeps the
columns of the blank, the digits, the ASCII letters and the ASCII punctuation (95 classes, in
that order; all of them exist in the PP-OCRv4 dictionary) and renormalises each time step so
the kept probabilities sum to one. Mass the recogniser gave to other scripts is redistributed
proportionally; ``raw_forward`` returns the unreduced 6625-class output for parity checks.
"""
from __future__ import annotations

import copy
import math
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MissingDependencyError, ModelError
from ..prior_probs import prior_steps
from .charset import BLANK, REDUCED_CHARSET, charset_columns
from .prior_files import ppocr_rec_model_path


class SemanticPrior(nn.Module):
    """A frozen recogniser giving per-step character probabilities for text images."""

    charset: list[str]
    input_height: int
    mean: float
    std: float
    name: str = "prior"

    @property
    def num_classes(self) -> int:
        return len(self.charset)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def decode(self, probs: torch.Tensor) -> list[str]:
        """Greedy CTC decoding: best class per step, merge repeats, drop blanks (index 0)."""
        best = probs.argmax(dim=-1).cpu().tolist()
        texts = []
        for row in best:
            chars, previous = [], 0
            for index in row:
                if index != previous and index != 0:
                    chars.append(self.charset[index])
                previous = index
            texts.append("".join(chars))
        return texts

    def output_steps(self, height: int, width: int) -> int:
        """How many steps ``forward`` gives for images of this size (measured once per size:
        the network's striding decides, and it differs between recognisers)."""
        cache = self.__dict__.setdefault("_steps_cache", {})
        if (height, width) not in cache:
            param = next(self.parameters(), None)
            probe = torch.zeros(1, 3, height, width, device=param.device if param is not None else "cpu")
            with torch.no_grad():
                cache[height, width] = int(self(probe).shape[1])
        return cache[height, width]

    has_features = False  # True where forward_features works (the feature loss needs it)

    def forward_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``forward`` and the sequence features its classifier reads, ``(N, T, D)``: what the
        feature loss compares between SR and HR. Recognisers that do not expose them raise."""
        raise NotImplementedError(f"the {self.name} recogniser does not expose its features")

    def freeze(self) -> "SemanticPrior":
        """Eval mode and no gradients for the weights (gradients still reach the input)."""
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)
        return self


_CONVERT_LOCK = threading.Lock()


@lru_cache(maxsize=None)
def _converted_ppocr(path: str) -> tuple[nn.Module, tuple[str, ...]]:
    """Convert the ONNX recogniser to a torch module once per process; returns (module, charset)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx2torch import convert

    model = onnx.load(path)
    meta = {p.key: p.value for p in model.metadata_props}
    if "character" not in meta:
        raise ModelError(f"{path}: ONNX metadata has no 'character' key")
    # RapidOCR: blank first, the dictionary (splitlines), a space last.
    charset = (BLANK, *meta["character"].splitlines(), " ")

    graph = model.graph
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(node.attribute[0].t), node.output[0]))
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    model = onnx.shape_inference.infer_shapes(model)
    # Shape inference loses the rank of a few conv outputs behind dynamic reshapes; onnx2torch
    # needs the rank to pick the BatchNorm class, and a conv output is always 4-D here.
    producers = {out: node for node in model.graph.node for out in node.output}
    infos = {v.name: v for v in model.graph.value_info}
    for node in model.graph.node:
        if node.op_type != "BatchNormalization":
            continue
        info = infos.get(node.input[0])
        if info is None or len(info.type.tensor_type.shape.dim) == 0:
            if producers.get(node.input[0]) is None or producers[node.input[0]].op_type != "Conv":
                raise ModelError(f"{path}: cannot infer the rank of {node.input[0]}")
            if info is not None:
                model.graph.value_info.remove(info)
            model.graph.value_info.append(
                helper.make_tensor_value_info(node.input[0], TensorProto.FLOAT, ["n", "c", "h", "w"]))
    # onnx2torch builds torch layers (random init, then the ONNX weights): keep that off the
    # global RNG, or a model's initial weights would depend on whether this ran before.
    with torch.random.fork_rng():
        module = convert(model).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module, charset


class PPOCRv4Prior(SemanticPrior):
    """PP-OCRv4 recogniser from rapidocr-onnxruntime, converted to torch (see module docstring)."""

    name = "ppocrv4_rec"
    input_height = 48
    mean = 0.5
    std = 0.5

    def __init__(self, min_width: int = 0, reduce_charset: bool = True, onnx_path: str | Path | None = None):
        super().__init__()
        path = str(onnx_path or ppocr_rec_model_path())
        with _CONVERT_LOCK:
            cached, full_charset = _converted_ppocr(path)
        self.onnx_path = path
        self.net = copy.deepcopy(cached)
        self.min_width = int(min_width)
        self.full_charset = list(full_charset)
        self.reduce_charset = reduce_charset
        if reduce_charset:
            self.charset = list(REDUCED_CHARSET)
            columns = charset_columns(self.full_charset, self.charset)
        else:
            columns = list(range(len(self.full_charset)))
            self.charset = list(self.full_charset)
        self.register_buffer("columns", torch.tensor(columns, dtype=torch.long), persistent=False)
        # The CTC head is the graph's last MatMul: its input is the neck's sequence features.
        # (Kept by name: an attribute holding the module would register it a second time.)
        heads = [node.target for node in self.net.graph.nodes if node.op == "call_module"
                 and type(self.net.get_submodule(node.target)).__name__ == "OnnxMatMul"]
        self._head_name = heads[-1] if heads else None
        self.has_features = self._head_name is not None
        self.freeze()

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] (N, 3, H, W) -> the recogniser's input: BGR, height 48, [-1, 1], padded."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images (N, 3, H, W), got {tuple(images.shape)}")
        h, w = images.shape[-2:]
        width = max(1, math.ceil(self.input_height * w / h))
        x = F.interpolate(images, size=(self.input_height, width), mode="bilinear", align_corners=False)
        x = (x.flip(1) - self.mean) / self.std
        if width < self.min_width:
            x = F.pad(x, (0, self.min_width - width))
        return x

    def raw_forward(self, prepared: torch.Tensor) -> torch.Tensor:
        """The converted network on an already preprocessed batch: (N, T, 6625) probabilities."""
        with warnings.catch_warnings():
            # onnx2torch's Slice indexes with a list; harmless here, noisy on every call.
            warnings.filterwarnings("ignore", message="Using a non-tuple sequence", category=UserWarning)
            return self.net(prepared)

    def output_steps(self, height: int, width: int) -> int:
        # Worked out, not measured: engines' probabilities must not need a pass of the prior.
        return prior_steps(width, height, self.input_height)

    def forward_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._head_name is None:
            return super().forward_features(images)
        captured: list[torch.Tensor] = []
        head = self.net.get_submodule(self._head_name)
        hook = head.register_forward_pre_hook(lambda _module, inputs: captured.append(inputs[0]))
        try:
            probs = self(images)
        finally:
            hook.remove()
        return probs, captured[0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        probs = self.raw_forward(self.preprocess(images))
        if not self.reduce_charset:
            return probs
        kept = probs.index_select(-1, self.columns)
        return kept / kept.sum(dim=-1, keepdim=True).clamp_min(1e-8)


# A class, or "module:Class" for a recogniser that lives with its engine plugin (imported on use).
PRIORS: dict[str, Callable[..., SemanticPrior] | str] = {
    "ppocrv4_rec": PPOCRv4Prior,
    "easyocr_g2": "sgenet_ocr_easyocr.prior:EasyOCRPrior",  # engine-matched training for EasyOCR
}


def create_prior(name: str = "ppocrv4_rec", **kwargs) -> SemanticPrior:
    """Build a frozen semantic prior by name (see :data:`PRIORS`)."""
    if name not in PRIORS:
        raise ModelError(f"unknown semantic prior {name!r}; known: {', '.join(sorted(PRIORS))}")
    factory = PRIORS[name]
    if isinstance(factory, str):
        import importlib

        module, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except ImportError:
            raise MissingDependencyError(module, "easyocr", f"the {name!r} recogniser needs {module}") from None
    return factory(**kwargs)


# How each engine runs its recogniser, where that differs from the prior's cheaper default.
# RapidOCR and PaddleOCR pad every crop to at least 320 px: PP-OCRv4's attention layers see the
# padding, and unpadded the prior reads 45% of small SR crops differently from the engine
# (same accuracy, different words), so a loss through the unpadded prior trains for a reader
# that no engine runs (MODEL_CARD.md, "Stage 13").
# EasyOCR reads a low-confidence crop a second time after a contrast stretch, and its uint8
# rounding flips readings of small text (for PP-OCRv4 rounding made no difference: not modelled).
AS_THE_ENGINE_RUNS: dict[str, dict] = {
    "ppocrv4_rec": {"min_width": 320},
    "easyocr_g2": {"second_pass": True, "uint8": True},
}


def uint8_levels(x: torch.Tensor, rounding=torch.round) -> torch.Tensor:
    """``x`` in [0, 1] at the 256 levels of a uint8 image (``rounding`` as the engine casts); the
    gradient passes straight through."""
    return x + (rounding(x.clamp(0, 1) * 255) / 255 - x).detach()


def create_reader(name: str = "ppocrv4_rec") -> SemanticPrior:
    """The recogniser ``name`` exactly as its engine runs it, frozen: what the text-focus losses
    and validation read with, so that training optimises the engine's reading."""
    return create_prior(name, **AS_THE_ENGINE_RUNS.get(name, {})).freeze()


def list_priors() -> Sequence[str]:
    return sorted(PRIORS)
