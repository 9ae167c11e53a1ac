"""``sgenet_ocr.attach(ocr)`` for a user's own ``paddleocr.PaddleOCR`` (3.x) object.

``PaddleOCR.predict`` (and the deprecated ``ocr``, which calls it) runs PaddleX's OCR pipeline:
read the page as BGR, optional document pre-processing, text detection, then
``self._crop_by_polys(image, dt_polys)`` cuts out every text box, then the optional text-line
orientation classifier and the recogniser read those crops. We shadow ``_crop_by_polys`` on
the pipeline instance(s) behind the user's object (one per device with multi-device
inference): the crops it returns pass through the restoration stage (BGR -> RGB -> stage ->
BGR) before anything else sees them. The user's object, its class and other PaddleOCR objects
are untouched; the undo function puts the original cropper back.

The polygons are in the coordinates of the image detection ran on, which is the page itself
unless the user turned on document unwarping.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from sgenet_ocr.errors import PluginError
from sgenet_ocr.instance_patch import chain, patch_instance, restore_in_order


def is_paddleocr(target: Any) -> bool:
    """True for a ``paddleocr.PaddleOCR`` instance; never imports paddleocr itself."""
    module = sys.modules.get("paddleocr")
    ocr_class = getattr(module, "PaddleOCR", None)
    return isinstance(ocr_class, type) and isinstance(target, ocr_class)


def inner_pipelines(ocr) -> list:
    """The PaddleX ``_OCRPipeline`` objects that do the work behind a ``PaddleOCR`` object."""
    outer = getattr(ocr, "paddlex_pipeline", None)
    if outer is None:
        raise PluginError("plugin 'paddleocr': only PaddleOCR 3.x objects can take the stage "
                          "(this one has no PaddleX pipeline)")
    state = vars(outer)  # not getattr: the wrapper forwards unknown names to its pipeline
    if state.get("_multi_device_inference"):
        found = list(state["_executor"].pipelines)
    elif "_pipeline" in state:
        found = [state["_pipeline"]]
    else:
        found = [outer]
    if not all("_crop_by_polys" in vars(p) for p in found):
        raise PluginError("plugin 'paddleocr': this PaddleOCR version has no '_crop_by_polys' step "
                          "to patch; supported: paddleocr 3.x")
    return found


def attach_to_paddleocr(ocr, stage) -> Callable[[], None]:
    """Patch the pipelines behind ``ocr`` to restore small crops; returns the undo function."""
    import numpy as np

    def wrap(crop_by_polys):
        def restoring_crop_by_polys(img, dt_polys):
            crops = list(crop_by_polys(img, dt_polys))
            usable = [i for i, c in enumerate(crops) if c.size > 0]  # PaddleX drops empty ones later
            quads = [np.asarray(dt_polys[i], dtype=np.float32).reshape(4, 2) for i in usable]
            restored = restore_in_order(stage, [crops[i] for i in usable], quads, "BGR")
            for i, crop in zip(usable, restored):
                crops[i] = crop
            return crops

        return restoring_crop_by_polys

    return chain([patch_instance(p, {"_crop_by_polys": wrap(p._crop_by_polys)})
                  for p in inner_pipelines(ocr)])
