"""Training configuration: the packaged defaults, a recipe YAML over them, ``--set`` overrides."""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import torch
import yaml

from ..devices import parse_device
from ..errors import UsageError
from ..evaluation.protocols import PROTOCOLS

DEFAULT_CONFIG = Path(__file__).parent.parent / "configs" / "sgenet_default.yaml"


def load_config(path: str | Path | None, overrides: list[str] = ()) -> dict:
    """Default config, updated by the YAML at ``path`` and by ``key.sub=value`` overrides."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"config not found: {path}")
        _merge(config, yaml.safe_load(path.read_text()) or {}, path.name)
        config["config_file"] = path.name  # recorded in the weights' sidecar
    for item in overrides:
        if "=" not in item:
            raise UsageError(f"override must look like key.sub=value: {item!r}")
        key, value = item.split("=", 1)
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UsageError(f"override {key!r}: {part!r} is not a section")
        node[leaf] = _checked(f"override {key!r}", yaml.safe_load(value), node.get(leaf))
    check_config(config)
    return config


class Range(NamedTuple):
    low: float
    high: float | None = None
    low_ok: bool = True   # the bound itself is allowed
    high_ok: bool = True
    whole: bool = False   # a count, not a measure


# A bad value fails here, in one line, before data and engines load, not as a library error
# minutes into a run.
RANGES = {
    "threads": Range(0, whole=True),
    "data.min_hr_height": Range(1, whole=True),
    "data.val_count": Range(1, whole=True),
    "data.textzoom_fraction": Range(0, 1),
    "data.synth_fraction": Range(0, 1, high_ok=False),  # the share of the pool: 1 leaves no real crop
    "data.small_word_share": Range(0, 1, high_ok=False),  # 1 would leave nothing to validate on
    "data.small_word_repeat": Range(1, whole=True),
    "data.num_workers": Range(0, whole=True),
    "train.batch_size": Range(1, whole=True),
    "train.batch_width_budget": Range(1, whole=True),
    "train.accumulate": Range(1, whole=True),
    "train.lr": Range(0, low_ok=False),
    "train.weight_decay": Range(0),
    "train.warmup_steps": Range(0, whole=True),
    "train.min_lr_ratio": Range(0, 1),
    "train.max_steps": Range(1, whole=True),
    "train.max_minutes": Range(0, low_ok=False),
    "train.grad_clip": Range(0),  # 0 or null: no clipping
    "train.ema_decay": Range(0, 1, high_ok=False),  # 1 would never move the exported weights
    "loss.pixel_weight": Range(0),
    "loss.ctc_weight": Range(0),
    "loss.distill_weight": Range(0),
    "loss.feature_weight": Range(0),
    "loss.text_every": Range(1, whole=True),
    "loss.text_chunk": Range(1, whole=True),
    "validation.max_height": Range(1, whole=True),
    "validation.max_crop_height": Range(1, whole=True),
    "log.val_every_minutes": Range(0, low_ok=False),
    "log.checkpoint_every_minutes": Range(0, low_ok=False),
    "log.log_every_steps": Range(1, whole=True),
}


def check_config(config: dict) -> None:
    """Every :data:`RANGES` setting that is set (``null`` switches one off) lies in its range;
    Adam's betas lie in [0, 1)."""
    for key, allowed in RANGES.items():
        node = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            continue
        if allowed.whole and node != int(node):
            raise UsageError(f"{key} must be a whole number, not {node!r}")
        low, high = allowed.low, allowed.high
        if (node < low or (node == low and not allowed.low_ok)
                or (high is not None and (node > high or (node == high and not allowed.high_ok)))):
            bounds = f"{'>=' if allowed.low_ok else '>'} {low}"
            if high is not None:
                bounds += f" and {'<=' if allowed.high_ok else '<'} {high}"
            raise UsageError(f"{key} must be {bounds}, not {node!r}")
    protocol = (config.get("validation") or {}).get("protocol")
    crop_protocols = [p for p in PROTOCOLS if p != "textzoom"]  # textzoom ignores the crop's shape
    if protocol is not None and protocol not in crop_protocols:
        raise UsageError(f"validation.protocol must be one of {', '.join(crop_protocols)}, not {protocol!r}")
    betas = config.get("train", {}).get("betas")
    if betas is not None and (len(betas) != 2 or not all(_is_number(b) and 0 <= b < 1 for b in betas)):
        raise UsageError(f"train.betas must be two numbers in [0, 1), not {betas!r}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked(where: str, value, current):
    """``value`` for a setting whose default is ``current``: ``3e-4`` becomes a number (PyYAML
    follows YAML 1.1, which reads it as a string), and a number setting refuses anything else."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if _is_number(current) and not (_is_number(value) or value is None):  # null: switched off
        raise UsageError(f"{where}: expected a number, got {value!r}")
    if type(current) is int and isinstance(value, float) and value.is_integer():
        value = int(value)  # 2e3 steps: a count
    return value


def _merge(base: dict, update: dict, source: str) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, source)
        else:
            base[key] = _checked(f"{source}: {key!r}", value, base.get(key))


def resolve_data_path(spec: str) -> Path:
    """``@data/NAME`` -> ``$SGENET_DATA/NAME`` or ``../shared/data/NAME``; else a plain path."""
    if spec.startswith("@data/"):
        root = os.environ.get("SGENET_DATA") or str(Path.cwd().parent / "shared" / "data")
        return Path(root) / spec[len("@data/"):]
    return Path(spec)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(str(parse_device(name)))
