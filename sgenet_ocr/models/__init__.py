"""Model zoo: ``create_model("sgenet", pretrained=False | True | NAME | path, **overrides)``.

Which weights: :func:`resolve_weights` is the one answer, for the model, the restorers, the
ONNX export and cache, the evaluation and the benchmarks. A name (``True``: the architecture's
default entry in :data:`PRETRAINED`) or a path goes in; the verified file, its architecture
config and its sha256 come out. The JSON sidecar next to a weights file (written by
:func:`save_weights`) is the single source of truth for both: retraining replaces two files
and needs no code edit. Random weights are never used silently: a missing shipped file raises
:class:`~sgenet_ocr.errors.ModelError`.

Importing this package does not import torch (the CLI asks :func:`has_pretrained` at start-up);
the torch-backed names (``SGENet``, ``SGENetConfig``, ``create_prior`` ...) load on first use.
"""
from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError, UnverifiedWeightsWarning, UsageError
from .weights import (config_from_dict, load_weights, read_sidecar, save_weights, sha256_of, stored_config,
                      verify)

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
#: Custom weights (a name or a path) the ``sgenet`` restorers use when no ``weights=`` option is given.
WEIGHTS_ENV = "SGENET_WEIGHTS"
ARCHITECTURES = ("sgenet",)


@dataclass(frozen=True)
class PretrainedConfig:
    """A named set of shipped weights (timm-style pretrained cfg): which architecture, which file.

    Everything else (sha256, architecture config, training notes) is read from the file's
    sidecar, so it cannot disagree with the file.
    """

    name: str
    architecture: str = "sgenet"
    weights_file: str = "sgenet_x2.safetensors"
    description: str = ""

    @property
    def weights_path(self) -> Path:
        return WEIGHTS_DIR / self.weights_file  # read at call time: tests point WEIGHTS_DIR elsewhere

    @property
    def sha256(self) -> str | None:
        side = read_sidecar(self.weights_path) if self.weights_path.is_file() else None
        return side.get("sha256") if side else None


#: Named weights. ``pretrained=True`` means the entry named like the architecture.
PRETRAINED: dict[str, PretrainedConfig] = {
    "sgenet": PretrainedConfig("sgenet", description="SGENet x2, stage-3 fine-tune (MODEL_CARD.md)"),
    # Engine-matched: the text-focus losses read by the engine's own recogniser (OcrEngine.preferred_weights).
    "sgenet-ppocr": PretrainedConfig("sgenet-ppocr", weights_file="sgenet_x2_ppocr.safetensors",
                                     description="SGENet x2 matched to PP-OCRv4 (RapidOCR, PaddleOCR): "
                                                 "stage 6 (MODEL_CARD.md)"),
    "sgenet-easyocr": PretrainedConfig("sgenet-easyocr", weights_file="sgenet_x2_easyocr.safetensors",
                                       description="SGENet x2 matched to EasyOCR's english_g2: "
                                                   "stages 7 and 14 (MODEL_CARD.md)"),
}


@dataclass(frozen=True)
class ResolvedWeights:
    """A verified weights file: where it is, its sha256 and the architecture config it needs."""

    path: Path
    sha256: str
    config: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # the PRETRAINED entry, None for a user's file

    @property
    def source(self) -> str:
        """For reports: ``shipped: FILE`` for a named entry, else the path."""
        return f"shipped: {self.path.name}" if self.name else str(self.path)


def list_models() -> list[str]:
    return sorted(ARCHITECTURES)


def list_pretrained() -> list[str]:
    return sorted(PRETRAINED)


def has_pretrained(name: str = "sgenet") -> bool:
    """True when the named shipped weights and their sidecar exist."""
    cfg = PRETRAINED.get(name)
    return bool(cfg and cfg.weights_path.is_file() and cfg.sha256)


def ships_weights(name: str = "sgenet") -> bool:
    """True when any file of the named shipped weights is there (the weights or their sidecar):
    then they are meant to be used, and a missing or damaged half is an error, never a fallback."""
    cfg = PRETRAINED.get(name)
    return bool(cfg and (cfg.weights_path.is_file() or cfg.weights_path.with_suffix(".json").is_file()))


def env_weights() -> str | None:
    """``$SGENET_WEIGHTS`` when set (a :data:`PRETRAINED` name or a weights path), else None."""
    return os.environ.get(WEIGHTS_ENV) or None


def resolve_weights(weights: "bool | str | Path | None" = True, architecture: str = "sgenet") -> ResolvedWeights:
    """The one resolver: ``True``/``None`` (the architecture's shipped default), a
    :data:`PRETRAINED` name, or a path -> a verified :class:`ResolvedWeights`.

    The file's sha256 is checked against its sidecar when it has one (shipped weights must);
    a file without a sidecar is hashed. ModelError when missing, corrupt or unverifiable.
    """
    if weights is None or weights is True:
        weights = architecture
    if isinstance(weights, str) and weights in PRETRAINED:
        cfg = PRETRAINED[weights]
        path = cfg.weights_path
        if not path.is_file():
            raise ModelError(f"no trained weights are shipped for {weights!r} ({path} is missing): "
                             "pass a weights file (weights=PATH) or use the bicubic restorer")
        side = read_sidecar(path)
        if not side or not side.get("sha256"):
            raise ModelError(f"shipped weights {weights!r} have no sha256 sidecar ({path.with_suffix('.json')})")
        verify(path, side["sha256"])
        return ResolvedWeights(path, side["sha256"], stored_config(path), cfg.name)
    if weights is False:
        raise UsageError("resolve_weights(False): no weights asked for")
    path = Path(weights)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    side = read_sidecar(path)
    expected = (side or {}).get("sha256")
    if not expected:
        warnings.warn(f"weights file {path} has no sidecar with its sha256 ({path.with_suffix('.json')}): "
                      "its integrity cannot be checked (save_weights() writes one)",
                      UnverifiedWeightsWarning, stacklevel=2)
    verify(path, expected)  # hashes the file; a mismatch with the sidecar is corruption
    return ResolvedWeights(path, expected or sha256_of(path), stored_config(path))


def create_model(name: str = "sgenet", pretrained: bool | str | Path = False, **overrides):
    """Build SGENet in eval mode; ``overrides`` set :class:`SGENetConfig` fields.

    ``pretrained``: False (random init), True (the shipped default), a :data:`PRETRAINED`
    name, a weights path (see :func:`resolve_weights`) or a :class:`ResolvedWeights`.

    ``prior=`` may also be a :class:`SemanticPrior` instance to share one between models.
    """
    from .prior import SemanticPrior
    from .sgenet import SGENet, SGENetConfig

    if name not in ARCHITECTURES:
        raise UsageError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    prior = overrides.pop("prior") if isinstance(overrides.get("prior"), SemanticPrior) else None
    unknown = set(overrides) - set(SGENetConfig.__dataclass_fields__)
    if unknown:
        raise UsageError(f"unknown model options: {', '.join(sorted(unknown))}")
    if pretrained is False or pretrained is None:
        source = None
    elif isinstance(pretrained, ResolvedWeights):  # already resolved (and verified) by the caller
        source = pretrained
    else:
        source = resolve_weights(pretrained, name)
    values = dict(source.config) if source else {}
    values.update(overrides)
    model = SGENet(config_from_dict(values), prior=prior)
    if source:
        load_weights(model, source.path, source.sha256, verified=True)
    return model.eval()


_LAZY = {
    "SGENet": ".sgenet", "SGENetConfig": ".sgenet", "MIN_WIDTH": ".sgenet", "MAX_WIDTH": ".sgenet",
    "SemanticPrior": ".prior", "create_prior": ".prior", "list_priors": ".prior",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PRETRAINED", "PretrainedConfig", "ResolvedWeights", "WEIGHTS_DIR", "create_model", "has_pretrained", "ships_weights",
    "list_models", "list_pretrained", "load_weights", "resolve_weights", "save_weights", *_LAZY,
]
