"""sgenet_ocr plugin: the ``rapidocr`` engine and ``sgenet_ocr.attach`` for ``RapidOCR`` objects.

Built on ``rapidocr-onnxruntime==1.4.4`` rather than ``rapidocr`` 3.x because:

* its wheel ships the PP-OCRv4 detection, recognition and angle-classifier ONNX files, so it
  runs offline from ``pip install`` alone; rapidocr 3.x downloads its models on first use,
  which this project forbids at run time;
* the same wheel is already a core dependency (its PP-OCRv4 recogniser is SGENet's semantic
  prior, and the ``paddleocr`` engine provisions its offline model dirs from it), so the
  engine adds nothing to install and every engine and the prior agree on one model version;
* its ``TextDetector`` / ``TextRecognizer`` classes take plain config dicts, which makes
  calling detection and recognition separately simple.

Engine options (``engine_options`` / ``--engine-option``): ``device`` ("cpu" or "cuda"),
``det_model_path`` / ``rec_model_path`` (other PP-OCR ONNX files), ``batch_size`` (crops per
recogniser run, default 16), ``threads`` (ONNX Runtime intra-op threads, -1 = its default),
and the detection settings in :data:`.engine.DETECT_DEFAULTS`.

Images are BGR (``color_order = "BGR"``), as in PaddleOCR. The plugin imports without the
package: the factory raises :class:`~sgenet_ocr.errors.MissingDependencyError` naming the
``rapidocr`` extra.
"""
from __future__ import annotations

from sgenet_ocr.hookspecs import hookimpl

# Read by sgenet_ocr.attach to list what it can attach to when no plugin knows an object.
ATTACHABLE_TYPES = ("rapidocr_onnxruntime.RapidOCR",)


def create_engine(threads: int = -1, **options):
    """Factory registered as engine ``rapidocr``; ``threads``: onnxruntime's (the run's
    ``--threads``; -1: onnxruntime's own default)."""
    from sgenet_ocr.registry import check_options

    from .engine import DETECT_DEFAULTS, RapidOcrEngine, import_rapidocr

    check_options(RapidOcrEngine, options, "engine 'rapidocr'", DETECT_DEFAULTS)  # batch_size="x": the user's error
    import_rapidocr()  # a missing package is reported before anything else
    return RapidOcrEngine(threads=threads, **options)


@hookimpl
def register_engines(register):
    register("rapidocr", create_engine)


@hookimpl
def attached_engine(target):
    from .attach import is_rapidocr

    if not is_rapidocr(target):
        return None
    from .engine import RapidOcrEngine

    return RapidOcrEngine


@hookimpl
def attach_stage(target, stage):
    from .attach import attach_to_rapidocr, is_rapidocr

    if not is_rapidocr(target):
        return None
    return attach_to_rapidocr(target, stage)
