"""Training configuration: the packaged defaults, a recipe YAML over them, ``--set`` overrides."""
from __future__ import annotations

import os
from pathlib import Path

import torch
import yaml

from ..devices import parse_device
from ..errors import UsageError

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
    return config


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
