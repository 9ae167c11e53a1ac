"""SGENet weight files: safetensors of the trainable part plus a JSON sidecar.

``<name>.safetensors`` holds the state dict without the frozen prior (its weights come from the
rapidocr-onnxruntime wheel); its metadata carries the architecture config. ``<name>.json``
holds the file's sha256, the config and free-form training metadata, so retraining only
replaces these two files and never needs a code edit.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError

if TYPE_CHECKING:  # torch stays unimported until a model is built (fast CLI start)
    from .sgenet import SGENet, SGENetConfig

CONFIG_KEY = "sgenet_config"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(weights: Path) -> Path:
    return Path(weights).with_suffix(".json")


def save_weights(model: "SGENet", path: str | Path, metadata: dict | None = None) -> str:
    """Write ``path`` (safetensors) and its ``.json`` sidecar; returns the sha256 of ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = asdict(model.config)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={CONFIG_KEY: json.dumps(config, sort_keys=True)})
    digest = sha256_of(path)
    sidecar = {"file": path.name, "sha256": digest, "config": config, "metadata": metadata or {}}
    sidecar_path(path).write_text(json.dumps(sidecar, indent=2, sort_keys=True, default=str) + "\n")
    return digest


def read_sidecar(path: Path) -> dict | None:
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"weights sidecar {side} is unreadable: {exc}") from None


def config_from_dict(values: dict) -> "SGENetConfig":
    from .sgenet import SGENetConfig

    known = {f.name for f in fields(SGENetConfig)}
    return SGENetConfig(**{k: v for k, v in values.items() if k in known})


def stored_config(path: Path) -> dict:
    """Architecture config saved with the weights: sidecar first, else the safetensors metadata."""
    side = read_sidecar(path)
    if side and isinstance(side.get("config"), dict):
        return side["config"]
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = (fh.metadata() or {}).get(CONFIG_KEY)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt file
        raise ModelError(f"weights file {path} is not a valid safetensors file: {exc}") from None
    return json.loads(raw) if raw else {}


def verify(path: Path, expected_sha256: str | None) -> None:
    """ModelError when ``path`` is missing or its sha256 differs from ``expected_sha256``."""
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    if expected_sha256:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise ModelError(f"weights file {path} is corrupt: sha256 {actual[:12]}... "
                             f"!= expected {expected_sha256[:12]}...")


def load_weights(model: "SGENet", path: str | Path, expected_sha256: str | None = None,
                 verified: bool = False) -> "SGENet":
    """Verify and load a safetensors file into ``model`` (ModelError on any mismatch).

    ``verified``: the caller (``resolve_weights``) has just checked the sha256; skip hashing again.
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not verified:
        if expected_sha256 is None:
            side = read_sidecar(path)
            expected_sha256 = side.get("sha256") if side else None
        verify(path, expected_sha256)
    try:
        state = load_file(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"weights file {path} is not a valid safetensors file: {exc}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "shape mismatch"
        raise ModelError(f"weights file {path} does not fit the model: {first}") from None
    return model
