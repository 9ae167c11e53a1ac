"""sgenet_ocr plugin: the ``easyocr`` engine and ``sgenet_ocr.attach`` for ``easyocr.Reader``.

Found through the ``sgenet_ocr`` entry-point group. Imports without easyocr installed: the
engine factory raises :class:`~sgenet_ocr.errors.MissingDependencyError` naming the
``easyocr`` extra instead.

Engine options (``--engine-option`` / preset ``engine_options``): ``device`` ("cpu" or
"cuda"), ``languages`` (default ``["en"]``; only English weights ship offline),
``model_dir`` (a folder with ``craft_mlt_25k.pth`` and the recogniser weights), ``quantize``
(easyocr's int8 CPU mode; off so results do not depend on batching), ``batch_size``,
``decoder``, ``beam_width``, ``allowlist``, and the detection settings in
:data:`.engine.DETECT_DEFAULTS` (``min_size``, ``text_threshold``, ``low_text``,
``link_threshold``, ``canvas_size``, ``mag_ratio``, ``width_ths``, ``add_margin``).
"""
from __future__ import annotations

from sgenet_ocr.hookspecs import hookimpl

# Read by sgenet_ocr.attach to list what it can attach to when no plugin knows an object.
ATTACHABLE_TYPES = ("easyocr.Reader",)


def create_engine(threads: int | None = None, **options):
    """Factory registered as engine ``easyocr``; ``threads``: torch's CPU threads (the run's
    ``--threads``; torch's setting is process-wide)."""
    from sgenet_ocr.registry import check_options

    from .engine import DETECT_DEFAULTS, EasyOcrEngine, import_easyocr

    check_options(EasyOcrEngine, options, "engine 'easyocr'", DETECT_DEFAULTS)  # batch_size="x": the user's error
    import_easyocr()  # a missing package is reported before anything else
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    return EasyOcrEngine(**options)


@hookimpl
def register_engines(register):
    register("easyocr", create_engine)


@hookimpl
def attached_engine(target):
    from .attach import is_easyocr_reader

    if not is_easyocr_reader(target):
        return None
    from .engine import EasyOcrEngine

    return EasyOcrEngine


@hookimpl
def attach_stage(target, stage):
    from .attach import attach_to_reader, is_easyocr_reader

    if not is_easyocr_reader(target):
        return None
    return attach_to_reader(target, stage)
