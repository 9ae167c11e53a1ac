"""Recognition results keyed by image content, so no recogniser reads the same pixels twice.

Within one evaluation, crops the stage left unchanged share the identity restorer's reading;
with a cache file (``--cache``), HR crops shared by the ``half``/``third``/``half-blur``
protocols and baseline readings are reused across runs (e.g. when only new SGENet weights
are evaluated). Keys are :func:`sgenet_ocr.imaging.pixels_key` (``sha1(shape + pixels)``, the
benchmarks' memos use it too); values ``[text, confidence]`` (files from before confidences were
kept hold the bare text: such a reading counts as missing when its confidence is needed, and is
read again).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..imaging import pixels_key


class RecognitionCache:
    """``{recognizer: {image key: [text, confidence]}}``, optionally persisted as JSON."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.entries: dict[str, dict[str, list | str]] = {}
        if self.path and self.path.is_file():
            self.entries = json.loads(self.path.read_text())

    def get(self, recognizer: str, key: str, need_confidence: bool = False) -> tuple[str, float | None] | None:
        """``(text, confidence)``, or None when not cached (or its confidence is needed but unknown)."""
        value = self.entries.get(recognizer, {}).get(key)
        if value is None:
            return None
        text, confidence = (value, None) if isinstance(value, str) else value
        if need_confidence and confidence is None:
            return None
        return text, confidence

    def put(self, recognizer: str, key: str, text: str, confidence: float) -> None:
        self.entries.setdefault(recognizer, {})[key] = [text, float(confidence)]

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries))
        os.replace(tmp, self.path)


class CachedRestorer:
    """A restorer whose outputs are stored as PNG files under ``folder`` keyed by the input
    pixels, so re-running an evaluation (another recogniser, a larger ``--limit``) with the same
    weights does not restore the same crops again. The real restorer is built by ``factory``
    only when a crop is missing; ``tag`` must identify the weights."""

    def __init__(self, factory, name: str, folder: str | Path, tag: str):
        self.factory, self.inner = factory, None
        self.name = name
        self.folder = Path(folder) / f"{name}-{tag}"

    def restore(self, crops):
        from PIL import Image

        paths = [self.folder / f"{pixels_key(c)}.png" for c in crops]
        todo = [i for i, p in enumerate(paths) if not p.is_file()]
        if todo:
            self.inner = self.inner or self.factory()
            self.folder.mkdir(parents=True, exist_ok=True)
            for i, out in zip(todo, self.inner.restore([crops[i] for i in todo])):
                Image.fromarray(out).save(paths[i])
        return [np.asarray(Image.open(p).convert("RGB")) for p in paths]

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
