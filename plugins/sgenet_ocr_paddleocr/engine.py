"""The ``paddleocr`` engine: PaddleOCR 3.x ``TextDetection`` and ``TextRecognition``, separately.

paddleocr is imported lazily (in :func:`import_paddleocr`), so this module imports without it.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from sgenet_ocr.devices import parse_device
from sgenet_ocr.engine import OcrEngine
from sgenet_ocr.errors import MissingDependencyError, ModelError, UsageError

from sgenet_ocr.models.prior_files import is_prior_model
from sgenet_ocr.options import check_count
from sgenet_ocr.prior_probs import columns_for, covered_steps, reduce_probs

from . import models as models_module

# Detection settings the engine exposes. PaddleOCR's DB thresholds; the page is scaled so its
# shorter side is 736 px (as RapidOCR does), which suits 720p scene photos with small words.
DETECT_DEFAULTS = {
    "limit_side_len": 736,
    "limit_type": "min",
    "thresh": 0.3,
    "box_thresh": 0.6,
    "unclip_ratio": 1.5,
}
DEFAULT_BATCH = 16
# PaddleOCR's own model names for ``models="paddleocr"`` (downloaded by PaddleOCR itself).
PADDLEOCR_MODELS = {"det": "PP-OCRv4_mobile_det", "rec": "en_PP-OCRv4_mobile_rec"}


def import_paddleocr():
    """``import paddleocr`` or the error that names the pip extra."""
    try:
        import paddleocr
    except ImportError:
        raise MissingDependencyError("paddleocr", "paddleocr") from None
    if not hasattr(paddleocr, "TextDetection"):
        raise MissingDependencyError("paddleocr", "paddleocr",
                                     f"the paddleocr engine needs paddleocr>=3.0 (found "
                                     f"{getattr(paddleocr, '__version__', 'an older version')})")
    return paddleocr


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Raise a library logger to WARNING for the duration of the block, then put it back."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def resolve_models(models_option: str) -> tuple[dict[str, tuple[str, str | None]], str | None]:
    """Model (name, dir) per role, and the PaddleX inference engine, for the ``models`` option.

    ``"bundled"``: dirs provisioned offline from the rapidocr wheel, on ONNX Runtime.
    ``"paddleocr"``: PaddleOCR's own models by name (PaddleOCR downloads and caches them; its
    default inference engine, which needs paddlepaddle).
    A folder path: the user's own model dirs ``det/`` and ``rec/`` inside it, on ONNX Runtime
    when they hold ``inference.onnx``, else PaddleOCR's default engine.
    """
    if models_option == "bundled":
        dirs = models_module.provision()
        return {role: (name, str(path)) for role, (name, path) in dirs.items()}, "onnxruntime"
    if models_option == "paddleocr":
        return {role: (name, None) for role, name in PADDLEOCR_MODELS.items()}, None
    root = Path(models_option).expanduser()
    if not root.is_dir():
        raise UsageError(f"paddleocr models option {models_option!r}: use 'bundled', 'paddleocr' or a "
                         f"folder holding det/ and rec/ PaddleOCR model dirs")
    chosen = {role: (models_module.read_model_name(root / role), str(root / role)) for role in ("det", "rec")}
    onnx = all((root / role / models_module.MODEL_FILE).is_file() for role in ("det", "rec"))
    return chosen, "onnxruntime" if onnx else None


class DecoderTap:
    """Stands in for the recogniser's CTC decoder and hands the network output it decodes to a
    caller on the same thread that is listening (PaddleX returns only the decoded text)."""

    def __init__(self, decode):
        self.decode = decode
        self._local = threading.local()

    def __call__(self, pred, *args, **kwargs):
        sink = getattr(self._local, "sink", None)
        if sink is not None:
            sink.append(np.asarray(pred[0], dtype=np.float32))
        return self.decode(pred, *args, **kwargs)

    @contextlib.contextmanager
    def listening(self, enabled: bool = True):
        """Collects each decoded batch's ``(N, T, C)`` output while the block runs."""
        outputs: list[np.ndarray] = []
        self._local.sink = outputs if enabled else None
        try:
            yield outputs
        finally:
            self._local.sink = None


class PaddleOcrEngine(OcrEngine):
    """PaddleOCR 3.x detection and recognition predictors (no document pre-processing)."""

    name = "paddleocr"
    color_order = "BGR"
    # PP-OCRv4 reads SGENet's output worse than bicubic's, even keeping the more confident
    # reading (benchmarks/results/summary.md: small ICDAR words 66.1% vs 63.7%, at no cost).
    preferred_restorer = "bicubic"
    # With an SGENet restorer: the weights fine-tuned with PP-OCRv4 reading the SR output
    # (MODEL_CARD.md, stage 6). ic15_words_dev, half, SGENet judged alone: 37.5 / 64.4% at
    # <= 8 / 9-12 px instead of 32.5 / 60.1% with the generic weights, 64.0% instead of 62.9%.
    preferred_weights = "sgenet-ppocr"
    # ic15_words_dev, half, sgenet-onnx (benchmarks/results/trust.md): 65.6% of words right
    # instead of 65.1%, and 59.0% instead of 57.6% at <= 12 px, restoring 26% of the crops.
    trusted_confidence = 0.8

    def __init__(self, device: str = "cpu", models: str = "bundled", batch_size: int = DEFAULT_BATCH,
                 inference_engine: str | None = None, **detect_options):
        unknown = set(detect_options) - set(DETECT_DEFAULTS)
        if unknown:
            raise UsageError(f"unknown paddleocr engine option(s): {', '.join(sorted(unknown))}; "
                             f"known: device, models, batch_size, inference_engine, "
                             f"{', '.join(DETECT_DEFAULTS)}")
        check_count(batch_size, "batch_size", "paddleocr ")
        parsed = parse_device(device, check=False)  # PaddleX, not torch, finds the GPU
        paddleocr = import_paddleocr()
        chosen, default_engine = resolve_models(models)
        common = {"device": str(parsed).replace("cuda", "gpu"),
                  "engine": inference_engine or default_engine}
        self.model_names = (chosen["det"][0], chosen["rec"][0])
        self.batch_size = int(batch_size)
        try:
            with _quiet("paddlex"):  # PaddleX logs every model it creates at INFO
                self.detector = paddleocr.TextDetection(
                    model_name=chosen["det"][0], model_dir=chosen["det"][1], **common,
                    **{**DETECT_DEFAULTS, **detect_options})
                self.recognizer = paddleocr.TextRecognition(
                    model_name=chosen["rec"][0], model_dir=chosen["rec"][1], **common)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"PaddleOCR could not load {self.model_names} ({models!r}): {exc}") from exc
        predictor = self.recognizer.paddlex_predictor
        self._tap = DecoderTap(predictor.post_op)
        predictor.post_op = self._tap
        # The bundled models are the prior's own ONNX file: their probabilities can guide SGENet.
        rec_dir = chosen["rec"][1]
        self.recognizer_prior = ("ppocrv4_rec" if rec_dir and is_prior_model(Path(rec_dir) / models_module.MODEL_FILE)
                                 else None)

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        result = self.detector.predict(np.ascontiguousarray(image))[0]
        # PaddleX orders each quad clockwise from the top-left already.
        return [np.asarray(p, dtype=np.float32).reshape(4, 2) for p in result["dt_polys"]]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        return self._read(crops, None)[0]

    def recognize_with_probs(self, crops, charset):
        return self._read(crops, charset)

    def _read(self, crops: Sequence[np.ndarray], charset: Sequence[str] | None):
        """Readings, and per-step probabilities over ``charset`` when it is given."""
        if len(crops) == 0:
            return [], ([] if charset is not None else None)
        # Like PaddleOCR's pipeline: vertical crops (1.5x taller than wide) are turned a quarter,
        # and crops of similar shape are batched together (each batch is padded to its
        # widest crop), then put the answers back in the caller's order.
        turned = [c.shape[0] >= 1.5 * c.shape[1] for c in crops]
        crops = [np.rot90(c) if t else c for c, t in zip(crops, turned)]
        order = np.argsort([c.shape[1] / max(1, c.shape[0]) for c in crops], kind="stable")
        with self._tap.listening(charset is not None) as outputs:
            results = self.recognizer.predict([np.ascontiguousarray(crops[i]) for i in order],
                                              batch_size=self.batch_size)
        readings: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for i, res in zip(order, results):
            readings[i] = (str(res["rec_text"]), float(res["rec_score"]))
        if charset is None:
            return readings, None
        rows = [row for batch in outputs for row in batch]
        probs: list[np.ndarray | None] = [None] * len(crops)
        if len(rows) != len(crops):  # PaddleX decoded elsewhere (another thread): the prior will read
            return readings, probs
        columns = columns_for(self._tap.decode.character, charset)
        for i, steps in zip(order, rows):
            if not turned[i]:
                probs[i] = reduce_probs(steps[:covered_steps(*crops[i].shape[:2], len(steps))], columns)
        return readings, probs

    def version(self) -> str:
        from importlib.metadata import version

        return f"paddleocr {version('paddleocr')} ({', '.join(self.model_names)})"

    def close(self) -> None:
        for predictor in (self.detector, self.recognizer):
            try:
                predictor.close()
            except Exception:  # noqa: BLE001 - closing must never mask the real outcome
                pass
