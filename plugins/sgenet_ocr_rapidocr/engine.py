"""The ``rapidocr`` engine: RapidOCR's PP-OCRv4 ONNX detector and recogniser, called separately.

rapidocr_onnxruntime is imported lazily (in :func:`import_rapidocr`), so this module imports
without it.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Sequence

import numpy as np

from sgenet_ocr.devices import parse_device
from sgenet_ocr.engine import OcrEngine
from sgenet_ocr.errors import MissingDependencyError, ModelError, UsageError
from sgenet_ocr.models.prior_files import is_prior_model
from sgenet_ocr.options import check_count
from sgenet_ocr.prior_probs import columns_for, covered_steps, reduce_probs

# Detection settings the engine exposes, with rapidocr-onnxruntime 1.4.4's own defaults.
DETECT_DEFAULTS = {
    "limit_side_len": 736,  # the shorter page side is scaled to this before detection
    "thresh": 0.3,  # DB probability threshold for a text pixel
    "box_thresh": 0.5,  # mean box score a detection needs
    "unclip_ratio": 1.6,  # how much DB grows each shrunk text region
}
# Crops per ONNX run: rapidocr pads a batch to its widest crop, so moderate batches are fastest.
DEFAULT_BATCH = 16


def import_rapidocr():
    """``import rapidocr_onnxruntime`` or the error that names the pip extra."""
    try:
        import rapidocr_onnxruntime
    except ImportError:
        raise MissingDependencyError("rapidocr-onnxruntime", "rapidocr") from None
    return rapidocr_onnxruntime


def package_config() -> dict:
    """rapidocr's own ``config.yaml`` with absolute model paths (a fresh copy each call)."""
    import_rapidocr()
    from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
    from rapidocr_onnxruntime.utils import read_yaml, update_model_path

    return update_model_path(copy.deepcopy(read_yaml(DEFAULT_CFG_PATH)))


def _check_model(path: str, what: str) -> str:
    if not Path(path).is_file():
        raise ModelError(f"rapidocr {what} model not found: {path}")
    return str(path)


def _session_settings(device: str, threads: int) -> dict:
    use_cuda = parse_device(device, check=False).is_cuda  # onnxruntime, not torch, finds the GPU
    return {"use_cuda": use_cuda, "intra_op_num_threads": threads, "inter_op_num_threads": -1}


class RapidOcrEngine(OcrEngine):
    """PP-OCRv4 (Chinese + English) detection and recognition from the rapidocr-onnxruntime wheel.

    Works in BGR like PaddleOCR, whose models these are. Crops 1.5x taller than wide are
    turned a quarter before reading, as RapidOCR itself does.
    """

    name = "rapidocr"
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

    def __init__(self, device: str = "cpu", det_model_path: str | None = None,
                 rec_model_path: str | None = None, batch_size: int = DEFAULT_BATCH,
                 threads: int = -1, **detect_options):
        unknown = set(detect_options) - set(DETECT_DEFAULTS)
        if unknown:
            raise UsageError(f"unknown rapidocr engine option(s): {', '.join(sorted(unknown))}; "
                             f"known: device, det_model_path, rec_model_path, batch_size, threads, "
                             f"{', '.join(DETECT_DEFAULTS)}")
        check_count(batch_size, "batch_size", "rapidocr ")
        from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer

        config = package_config()
        session = _session_settings(device, int(threads))
        det_cfg = {**config["Det"], **session, **DETECT_DEFAULTS, **detect_options}
        det_cfg["model_path"] = _check_model(det_model_path or det_cfg["model_path"], "detection")
        rec_cfg = {**config["Rec"], **session, "rec_batch_num": int(batch_size)}
        rec_cfg["model_path"] = _check_model(rec_model_path or rec_cfg["model_path"], "recognition")
        self.model_paths = (det_cfg["model_path"], rec_cfg["model_path"])
        self.detector = TextDetector(det_cfg)
        self.recognizer = TextRecognizer(rec_cfg)
        # With the prior's own ONNX file the recogniser is the prior: its probabilities can guide SGENet.
        self.recognizer_prior = "ppocrv4_rec" if is_prior_model(rec_cfg["model_path"]) else None

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        boxes, _elapsed = self.detector(np.ascontiguousarray(image))
        if boxes is None or len(boxes) == 0:
            return []
        # TextDetector already orders each box top-left, top-right, bottom-right, bottom-left.
        return [np.asarray(b, dtype=np.float32).reshape(4, 2) for b in boxes]

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        return self._read(crops, None)[0]

    def recognize_with_probs(self, crops, charset):
        return self._read(crops, charset)

    def _read(self, crops: Sequence[np.ndarray], charset: Sequence[str] | None):
        """Readings, and per-step probabilities over ``charset`` when it is given.

        RapidOCR's ``TextRecognizer.__call__`` step by step (sorted by aspect ratio, batches
        padded to their widest crop, CTC decoding), keeping the network's output in hand.
        """
        if len(crops) == 0:
            return [], ([] if charset is not None else None)
        # Like RapidOCR's own crop step: a crop 1.5x taller than wide is vertical text, turned
        # a quarter to lie horizontally. Its probabilities would run along the wrong axis.
        turned = [c.shape[0] >= 1.5 * c.shape[1] for c in crops]
        crops = [np.ascontiguousarray(np.rot90(c) if t else c) for c, t in zip(crops, turned)]
        rec = self.recognizer
        _, height, width = rec.rec_image_shape[:3]
        columns = None if charset is None else columns_for(rec.postprocess_op.character, charset)
        readings: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        probs: list[np.ndarray | None] = [None] * len(crops)
        order = np.argsort([c.shape[1] / c.shape[0] for c in crops], kind="stable")
        for start in range(0, len(crops), rec.rec_batch_num):
            batch = order[start:start + rec.rec_batch_num]
            max_ratio = max(width / height, *(crops[i].shape[1] / crops[i].shape[0] for i in batch))
            inputs = np.stack([rec.resize_norm_img(crops[i], max_ratio) for i in batch]).astype(np.float32)
            preds = rec.session(inputs)[0]
            for i, (text, score), steps in zip(batch, rec.postprocess_op(preds), preds):
                readings[i] = (str(text), float(score))
                if columns is not None and not turned[i]:
                    used = covered_steps(*crops[i].shape[:2], len(steps), height, inputs.shape[-1] // len(steps))
                    probs[i] = reduce_probs(steps[:used], columns)
        return readings, (probs if columns is not None else None)

    def version(self) -> str:
        from importlib.metadata import version

        return (f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')} "
                f"({', '.join(Path(p).stem for p in self.model_paths)})")
