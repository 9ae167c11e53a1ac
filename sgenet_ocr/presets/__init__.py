"""Declarative pipeline presets: ``NAME.yaml`` files (engine, restorer, options).

The shipped ones sit beside this module (package data, so a ``pip install`` has them too);
``$SGENET_PIPELINES`` adds folders of one's own, searched first.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageError
from ..options import PRESET_KEYS, check_settings

SHIPPED = Path(__file__).resolve().parent


def preset_dirs() -> list[Path]:
    """Where named presets are looked up: ``$SGENET_PIPELINES`` (os.pathsep list), then the shipped ones."""
    dirs = [Path(p) for p in os.environ.get("SGENET_PIPELINES", "").split(os.pathsep) if p]
    dirs.append(SHIPPED)
    return [d for d in dirs if d.is_dir()]


def known_presets() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in reversed(preset_dirs()):  # earlier dirs win
        for p in sorted(d.glob("*.y*ml")):
            found[p.stem] = p
    return found


def load_preset(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    if not path.is_file():
        presets = known_presets()
        if name_or_path not in presets:
            known = ", ".join(sorted(presets)) or "none"
            raise UsageError(f"unknown pipeline preset {name_or_path!r}; known presets: {known}")
        path = presets[name_or_path]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"pipeline preset {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise UsageError(f"pipeline preset {path}: expected a mapping of settings")
    unknown = set(data) - PRESET_KEYS
    if unknown:
        raise UsageError(f"pipeline preset {path}: unknown keys {sorted(unknown)}; allowed: {sorted(PRESET_KEYS)}")
    check_settings(data, f"pipeline preset {path}: ")
    data.pop("description", None)
    return data
