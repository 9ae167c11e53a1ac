"""Which training checkpoint is best: judged by the OCR engines users run, on small text.

A PSNR or a single recogniser's accuracy on 96 crops picked checkpoints badly (MODEL_CARD.md).
At every validation the real engines (``validation.readers``: ``ppocr``, ``tesseract``,
``easyocr``, ...) read the SR output of the held-out crops; the selection score is the mean of
their word accuracies on crops whose native LR text is at most ``validation.max_height`` px
tall, where restoration is meant to help. Each engine's reading of the untouched small word
(identity), of bicubic x2 and of the HR crop is measured once, as the bar to beat.

An engine that is not installed (the GPU kit's machine has none) is left out with a note; with no
engine left, the trainer falls back to its recogniser's accuracy on all crops.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from .errors import ModelError, UsageError
from .metrics import word_correct

BASELINES = ("identity", "bicubic", "hr")


def to_images(batch) -> list[np.ndarray]:
    """``(N, 3, H, W)`` float tensor in [0, 1] -> RGB ``uint8`` arrays, as an engine gets crops."""
    array = (batch.detach().float().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return [np.ascontiguousarray(a) for a in array]


class EngineJudges:
    """The engines that read validation crops, and the score that picks the best checkpoint."""

    def __init__(self, names: Sequence[str], max_height: int = 12, device: str = "cpu", host=None):
        from .evaluate import LazyEngine, engine_name
        from .plugin_manager import PluginHost

        self.max_height = int(max_height)
        self.engines: dict = {}
        self.skipped: dict[str, str] = {}
        host = host or PluginHost()
        for name in names:
            if engine_name(name) not in host.engines:
                self.skipped[name] = "not installed"
                continue
            engine = LazyEngine(host, name, device)
            try:
                engine.engine  # load now: a missing model is reported here, not mid-training
            except (UsageError, ModelError, ImportError, OSError) as exc:
                self.skipped[name] = str(exc).splitlines()[0][:160]
                continue
            self.engines[name] = engine
        for name, why in self.skipped.items():
            print(f"validation: {name} left out ({why})", file=sys.stderr, flush=True)
        self.baselines: dict[str, dict[str, dict]] = {}  # reader -> identity/bicubic/hr -> accuracies
        self.last_small_hits: dict[str, list[bool]] = {}  # engine -> right/wrong per small word, last call

    def __bool__(self) -> bool:
        return bool(self.engines)

    def accuracies(self, images: Sequence[np.ndarray], labels: Sequence[str],
                   heights: Sequence[int]) -> dict[str, dict]:
        """Per engine: ``{"all": acc, "small": acc on heights <= max_height, "n_small": n}``."""
        from .evaluate import recognize_images

        small = [h <= self.max_height for h in heights]
        result = {}
        self.last_small_hits = {}
        for name, engine in self.engines.items():
            texts = [text for text, _ in recognize_images(engine, images, f"validation {name}", name)]
            hits = [word_correct(t, label) for t, label in zip(texts, labels)]
            scored = [(bool(hit), is_small) for hit, is_small in zip(hits, small) if hit is not None]
            small_hits = [hit for hit, is_small in scored if is_small]
            self.last_small_hits[name] = small_hits
            result[name] = {"all": float(np.mean([hit for hit, _ in scored])) if scored else 0.0,
                            "small": float(np.mean(small_hits)) if small_hits else 0.0,
                            "n_small": len(small_hits)}
        return result

    def measure_baselines(self, outputs: dict[str, Sequence[np.ndarray]], labels, heights) -> None:
        """Engines on identity / bicubic / HR, once per run (they do not change with training)."""
        for kind in BASELINES:
            for name, acc in self.accuracies(outputs[kind], labels, heights).items():
                self.baselines.setdefault(name, {})[kind] = acc

    def score(self, per_engine: dict[str, dict]) -> float:
        """The selection score: mean small-text accuracy over the engines."""
        return float(np.mean([acc["small"] for acc in per_engine.values()])) if per_engine else 0.0

    def summary(self, per_engine: dict[str, dict]) -> str:
        """One log line: ``ppocr 0.41 (id 0.45 bic 0.40 hr 0.70) ...`` on small text."""
        parts = []
        for name, acc in per_engine.items():
            base = self.baselines.get(name, {})
            bars = " ".join(f"{k[:3]} {base[k]['small']:.3f}" for k in BASELINES if k in base)
            parts.append(f"{name} {acc['small']:.3f} ({bars})")
        return "; ".join(parts)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()
