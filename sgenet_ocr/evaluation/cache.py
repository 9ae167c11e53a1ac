"""Recognition results keyed by image content, so no recogniser reads the same pixels twice.

Within one evaluation, crops the stage left unchanged share the identity restorer's reading;
with a cache file (``--cache``), HR crops shared by the ``half``/``third``/``half-blur``
protocols and baseline readings are reused across runs (e.g. when only new SGENet weights
are evaluated). Keys are ``sha1(shape + pixels)``; values the recognised text.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np


def image_key(image: np.ndarray) -> str:
    data = np.ascontiguousarray(image)
    digest = hashlib.sha1(str(data.shape).encode())
    digest.update(data.tobytes())
    return digest.hexdigest()


class RecognitionCache:
    """``{recognizer: {image key: text}}``, optionally persisted as JSON."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.entries: dict[str, dict[str, str]] = {}
        if self.path and self.path.is_file():
            self.entries = json.loads(self.path.read_text())

    def get(self, recognizer: str, key: str) -> str | None:
        return self.entries.get(recognizer, {}).get(key)

    def put(self, recognizer: str, key: str, text: str) -> None:
        self.entries.setdefault(recognizer, {})[key] = text

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries))
        os.replace(tmp, self.path)
