"""sgenet_ocr plugin: the ``paddleocr`` engine and ``sgenet_ocr.attach`` for ``PaddleOCR`` objects.

Runs the real ``paddleocr`` 3.x package on ONNX Runtime (no paddlepaddle needed), fully
offline: PP-OCRv4 detection and recognition model dirs are provisioned from the ONNX files in
the ``rapidocr-onnxruntime`` wheel into a user cache (see :mod:`.models`), checked on every
start and rebuilt if corrupt. Detection (``paddleocr.TextDetection``) and recognition
(``paddleocr.TextRecognition``) are called separately; PaddleOCR's document orientation,
unwarping and text-line orientation modules are not used (they cost time and need models that
are not shipped offline). Images are BGR.

Engine options: ``models`` ("bundled" (default), "paddleocr" for PaddleOCR's own downloaded
models, or a folder with the user's own ``det/`` and ``rec/`` model dirs), ``device``,
``batch_size`` (crops per recogniser run, default 16), ``inference_engine`` (PaddleX engine
name, default "onnxruntime" for ONNX dirs) and the detection settings in
:data:`.engine.DETECT_DEFAULTS`.

For a user's own object, :func:`offline_kwargs` gives ``PaddleOCR(**offline_kwargs())`` the
same offline models; ``sgenet_ocr.attach(ocr)`` then restores small crops inside
``ocr.predict(...)`` and ``ocr.ocr(...)``.
"""
from __future__ import annotations

from sgenet_ocr.hookspecs import hookimpl

# Read by sgenet_ocr.attach to list what it can attach to when no plugin knows an object.
ATTACHABLE_TYPES = ("paddleocr.PaddleOCR",)


def create_engine(**options):
    """Factory registered as engine ``paddleocr``."""
    from sgenet_ocr.registry import check_options

    from .engine import DETECT_DEFAULTS, PaddleOcrEngine, import_paddleocr

    check_options(PaddleOcrEngine, options, "engine 'paddleocr'", DETECT_DEFAULTS)  # batch_size="x": the user's error
    import_paddleocr()  # a missing package is reported before anything else
    return PaddleOcrEngine(**options)


def offline_kwargs(root=None) -> dict:
    """Keyword arguments for ``paddleocr.PaddleOCR(...)`` that run offline on our models."""
    from .models import offline_kwargs as build

    return build(root)


@hookimpl
def register_engines(register):
    register("paddleocr", create_engine)


@hookimpl
def attached_engine(target):
    from .attach import is_paddleocr

    if not is_paddleocr(target):
        return None
    from .engine import PaddleOcrEngine

    return PaddleOcrEngine


@hookimpl
def attach_stage(target, stage):
    from .attach import attach_to_paddleocr, is_paddleocr

    if not is_paddleocr(target):
        return None
    return attach_to_paddleocr(target, stage)
