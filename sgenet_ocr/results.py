"""Typed results (page > words) with ``export()`` to plain JSON-ready data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .keep import DEFAULT_KEEP, keep_policy


@dataclass
class Word:
    quad: np.ndarray  # (4, 2) page pixels, clockwise from top-left
    text: str
    confidence: float
    restored: bool = False
    baseline_text: str | None = None  # the engine alone, with compare=True
    baseline_confidence: float | None = None
    kept_original: bool = False  # the keep policy chose the original crop's reading

    @property
    def changed(self) -> bool:
        """True when restoration changed what the engine read."""
        return self.baseline_text is not None and self.baseline_text != self.text

    def export(self, compare: bool = False, report_kept: bool = False) -> dict[str, Any]:
        out = {
            "quad": [[round(float(x), 1), round(float(y), 1)] for x, y in self.quad],
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "restored": bool(self.restored),
        }
        if report_kept:
            out["kept_original"] = bool(self.kept_original)
        if compare:
            out["baseline_text"] = self.baseline_text
            out["baseline_confidence"] = (
                None if self.baseline_confidence is None else round(float(self.baseline_confidence), 4)
            )
        return out


@dataclass
class Page:
    source: str
    width: int
    height: int
    engine: str
    restorer: str
    words: list[Word] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: detect, recognize, restore, recognize_restored
    compare: bool = False
    keep: str = DEFAULT_KEEP  # the Pipeline's keep policy (sgenet_ocr.keep)
    skipped_boxes: int = 0  # degenerate detections dropped
    crops: list = field(default_factory=list, repr=False)  # (word index, original, restored), keep_crops=True
    page: int | None = None  # 1-based page of a multi-page file (PDF, TIFF); None for a single image

    @property
    def text(self) -> str:
        return "\n".join(w.text for w in self.words if w.text)

    def export(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.page is not None:
            out["page"] = self.page
        return out | {
            "width": self.width,
            "height": self.height,
            "engine": self.engine,
            "restorer": self.restorer,
            "keep": self.keep,
            "words": [w.export(self.compare, keep_policy(self.keep).reads_original) for w in self.words],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class Document:
    pages: list[Page] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)  # inputs that could not be read

    def export(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pages": [p.export() for p in self.pages]}
        if self.errors:
            out["errors"] = list(self.errors)
        return out
