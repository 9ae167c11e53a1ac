"""Model zoo: ``create_model("sgenet", pretrained=False | True | path, **overrides)``.

``pretrained=True`` loads the shipped weights (``sgenet_ocr/weights/sgenet_x2.safetensors``,
verified against the sha256 in its ``.json`` sidecar); a path loads that file (verified when a
sidecar sits next to it). Random weights are never used silently: without shipped weights
``pretrained=True`` raises :class:`~sgenet_ocr.errors.ModelError`.

Importing this package does not import torch (the CLI asks :func:`has_pretrained` at start-up);
the torch-backed names (``SGENet``, ``SGENetConfig``, ``create_prior`` ...) load on first use.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError, UsageError
from .charset import CHARSET_NAME
from .weights import config_from_dict, load_weights, read_sidecar, save_weights, stored_config

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


@dataclass(frozen=True)
class PretrainedConfig:
    """Where a model's shipped weights live and what they expect (timm-style)."""

    name: str
    scale: int = 2
    input_height: int = 16
    charset: str = CHARSET_NAME
    prior: str = "ppocrv4_rec"
    weights_file: str = "sgenet_x2.safetensors"

    @property
    def weights_path(self) -> Path:
        return WEIGHTS_DIR / self.weights_file

    @property
    def sha256(self) -> str | None:
        """Expected sha256, read from the sidecar so retraining needs no code edit."""
        side = read_sidecar(self.weights_path)
        return side.get("sha256") if side else None


PRETRAINED: dict[str, PretrainedConfig] = {"sgenet": PretrainedConfig("sgenet")}


def list_models() -> list[str]:
    return sorted(PRETRAINED)


def has_pretrained(name: str = "sgenet") -> bool:
    """True when shipped weights and their sidecar exist for ``name``."""
    cfg = PRETRAINED.get(name)
    return bool(cfg and cfg.weights_path.is_file() and cfg.sha256)


def _weights_source(name: str, pretrained) -> tuple[Path, str | None] | None:
    if pretrained is False or pretrained is None:
        return None
    if pretrained is True:
        cfg = PRETRAINED[name]
        if not cfg.weights_path.is_file():
            raise ModelError(f"no trained weights are shipped yet for {name!r} ({cfg.weights_path} is "
                             "missing): pass a weights file or use the bicubic restorer")
        if not cfg.sha256:
            raise ModelError(f"shipped weights for {name!r} have no sha256 sidecar "
                             f"({cfg.weights_path.with_suffix('.json')})")
        return cfg.weights_path, cfg.sha256
    path = Path(pretrained)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    return path, None


def create_model(name: str = "sgenet", pretrained: bool | str | Path = False, **overrides):
    """Build SGENet in eval mode; ``overrides`` set :class:`SGENetConfig` fields.

    ``prior=`` may also be a :class:`SemanticPrior` instance to share one between models.
    """
    from .prior import SemanticPrior
    from .sgenet import SGENet, SGENetConfig

    if name not in PRETRAINED:
        raise UsageError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    prior = overrides.pop("prior") if isinstance(overrides.get("prior"), SemanticPrior) else None
    unknown = set(overrides) - set(SGENetConfig.__dataclass_fields__)
    if unknown:
        raise UsageError(f"unknown model options: {', '.join(sorted(unknown))}")
    source = _weights_source(name, pretrained)
    values = stored_config(source[0]) if source else {}
    values.update(overrides)
    model = SGENet(config_from_dict(values), prior=prior)
    if source:
        load_weights(model, *source)
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
    "PRETRAINED", "PretrainedConfig", "WEIGHTS_DIR", "create_model", "has_pretrained", "list_models",
    "load_weights", "save_weights", *_LAZY,
]
