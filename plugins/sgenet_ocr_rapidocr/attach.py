"""``sgenet_ocr.attach(engine)`` for a user's own ``rapidocr_onnxruntime.RapidOCR`` object.

``RapidOCR.__call__`` resizes/pads the page (``maybe_add_letterbox`` receives the record of
both), detects boxes, cuts them out with ``get_crop_img_list(img, dt_boxes)``, then runs the
angle classifier and the recogniser on that list. We shadow three methods on the one instance:

* ``maybe_add_letterbox``: pass-through that remembers the resize ratios and padding, so box
  coordinates can be mapped back to page pixels for the ``needs_restoration`` decision;
* ``get_crop_img_list``: the narrowest step that produces the crops; the restoration stage runs
  on its output (BGR -> RGB -> stage -> BGR), so classifier and recogniser see restored crops;
* ``cal_rec_boxes`` (only used with ``return_word_box=True``): gets the unrestored crops back,
  because it turns character positions into page boxes through each crop's size.

The user's call keeps its signature and output format. ``engine(img, use_det=False)`` reads
the whole image as one line without cutting crops, so nothing is restored there. One object with a stage attached should not be called
from several threads at once (the remembered page geometry is per object).
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from sgenet_ocr.instance_patch import patch_instance, restore_in_order


def is_rapidocr(target: Any) -> bool:
    """True for a ``RapidOCR`` instance; never imports the package itself."""
    module = sys.modules.get("rapidocr_onnxruntime")
    engine_class = getattr(module, "RapidOCR", None)
    return isinstance(engine_class, type) and isinstance(target, engine_class)


def to_page_quads(boxes, op_record: dict) -> list[np.ndarray]:
    """Undo RapidOCR's padding then resize on detected boxes (as ``_get_origin_points`` does)."""
    pad = op_record.get("padding_1", {})
    ratio = op_record.get("preprocess", {})
    offset = np.array([pad.get("left", 0), pad.get("top", 0)], dtype=np.float32)
    scale = np.array([ratio.get("ratio_w", 1.0), ratio.get("ratio_h", 1.0)], dtype=np.float32)
    return [((np.asarray(b, dtype=np.float32).reshape(4, 2) - offset) * scale) for b in boxes]


def attach_to_rapidocr(engine, stage) -> Callable[[], None]:
    """Patch ``engine`` (one instance) to restore small crops; returns the undo function."""
    page = {"op_record": {}, "originals": None}
    letterbox, crop_list = engine.maybe_add_letterbox, engine.get_crop_img_list
    word_boxes = engine.cal_rec_boxes

    def maybe_add_letterbox(img, op_record):
        img, op_record = letterbox(img, op_record)
        page["op_record"] = dict(op_record)
        return img, op_record

    def get_crop_img_list(img, dt_boxes):
        crops = crop_list(img, dt_boxes)
        page["originals"] = crops
        if not crops:
            return crops
        return restore_in_order(stage, crops, to_page_quads(dt_boxes, page["op_record"]), "BGR")

    def cal_rec_boxes(imgs, dt_boxes, rec_res):
        originals = page["originals"]
        if originals is not None and len(originals) == len(imgs):
            imgs = originals
        return word_boxes(imgs, dt_boxes, rec_res)

    return patch_instance(engine, {
        "maybe_add_letterbox": maybe_add_letterbox,
        "get_crop_img_list": get_crop_img_list,
        "cal_rec_boxes": cal_rec_boxes,
    })
