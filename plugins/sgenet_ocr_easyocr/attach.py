"""``sgenet_ocr.attach(reader)`` for a user's own ``easyocr.Reader``.

``Reader.readtext`` (and ``readtext_batched``) detect boxes and then call
``self.recognize(grey_image, horizontal_list, free_list, ...)``. We shadow ``recognize`` on
the one instance (never the class) with a wrapper that cuts each box's crop, lets the
restoration stage restore the small ones, reads the restored crops one by one, and puts the
answers back at the original box coordinates and in easyocr's own order, so ``readtext``
returns exactly the format it always did.
"""
from __future__ import annotations

import functools
import inspect
import json
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sgenet_ocr.errors import PluginError

_ORIGINAL = "__sgenet_ocr_original__"
_DETACH = "__sgenet_ocr_unhook__"


def is_easyocr_reader(target: Any) -> bool:
    """True for an ``easyocr.Reader``; never imports easyocr (a Reader implies it is loaded)."""
    easyocr = sys.modules.get("easyocr")
    reader_class = getattr(easyocr, "Reader", None)
    return isinstance(reader_class, type) and isinstance(target, reader_class)


def attach_to_reader(reader, stage) -> Callable[[], None]:
    """Patch ``reader.recognize`` to run ``stage``; returns the function that undoes it."""
    current = reader.__dict__.get("recognize")
    if current is not None and hasattr(current, _DETACH):
        getattr(current, _DETACH)()  # attaching again replaces the stage, never stacks wrappers
    had_own = "recognize" in reader.__dict__
    own = reader.__dict__.get("recognize")
    original = reader.recognize
    signature = inspect.signature(original)

    @functools.wraps(original)
    def recognize(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return _recognize_with_stage(reader, original, dict(bound.arguments), stage)

    def detach() -> None:
        if reader.__dict__.get("recognize") is not recognize:
            return  # already undone
        if had_own:
            reader.recognize = own
        else:
            del reader.recognize

    setattr(recognize, _ORIGINAL, original)
    setattr(recognize, _DETACH, detach)
    reader.recognize = recognize
    return detach


@dataclass
class _Box:
    """One box of a recognize call: how easyocr reports it, its quad and its grey crop."""

    reported: Any  # the box as easyocr puts it in results
    quad: np.ndarray
    crop: np.ndarray
    free: bool


def _cut_boxes(grey: np.ndarray, horizontal: list, free: list) -> list[_Box]:
    """Crop every box the way easyocr's ``get_image_list`` does (horizontal first, then free)."""
    from easyocr.utils import four_point_transform

    height, width = grey.shape[:2]
    boxes = []
    for box in horizontal:
        x_min, x_max = max(0, box[0]), min(box[1], width)
        y_min, y_max = max(0, box[2]), min(box[3], height)
        reported = [[x_min, y_min], [x_max, y_min], [x_max, y_max], [x_min, y_max]]
        boxes.append(_Box(reported, np.asarray(reported, dtype=np.float32),
                          grey[y_min:y_max, x_min:x_max], free=False))
    for box in free:
        quad = np.asarray(box, dtype=np.float32).reshape(4, 2)
        boxes.append(_Box(box, quad, four_point_transform(grey, quad), free=True))
    return boxes


def _easyocr_order(boxes: list[_Box], args: dict, device: str) -> list[int]:
    """The order in which easyocr's ``recognize`` returns the boxes' results.

    One box at a time (CPU, or batch_size 1, without rotation): horizontal boxes then free
    ones, as given. Otherwise all boxes in one batch: free then horizontal, stably sorted by
    the top-left corner's y.
    """
    indices = list(range(len(boxes)))
    if (args["batch_size"] == 1 or device == "cpu") and not args["rotation_info"]:
        return indices
    batch_order = [i for i in indices if boxes[i].free] + [i for i in indices if not boxes[i].free]
    return sorted(batch_order, key=lambda i: boxes[i].reported[0][1])


def _recognize_with_stage(reader, original, args: dict, stage):
    import cv2
    from easyocr.utils import reformat_input

    grey = args["img_cv_grey"]
    if args["reformat"]:
        _, grey = reformat_input(grey)
    horizontal, free = args["horizontal_list"], args["free_list"]
    if horizontal is None and free is None:  # easyocr reads the whole image as one line
        horizontal, free = [[0, grey.shape[1], 0, grey.shape[0]]], []
    horizontal, free = list(horizontal or []), list(free or [])

    boxes = _cut_boxes(grey, horizontal, free)
    eligible = [i for i, b in enumerate(boxes) if b.crop.size > 0]
    restored_crops, flags = stage.apply([np.repeat(boxes[i].crop[:, :, None], 3, axis=2) for i in eligible],
                                        [boxes[i].quad for i in eligible])
    restored = {i: crop for i, crop, flag in zip(eligible, restored_crops, flags) if flag}
    if not restored:
        return original(**args)

    # Raw (box, text, confidence) results; the caller's formatting is applied at the end.
    raw_args = {**args, "img_cv_grey": grey, "reformat": False, "detail": 1, "paragraph": False,
                "output_format": "standard"}
    kept = {i for i in range(len(boxes)) if i not in restored}
    results: dict[int, tuple] = {}
    if kept:
        kept_results = original(**{**raw_args,
                                   "horizontal_list": [h for i, h in enumerate(horizontal) if i in kept],
                                   "free_list": [f for i, f in enumerate(free, len(horizontal)) if i in kept]})
        kept_order = [i for i in _easyocr_order(boxes, args, reader.device) if i in kept]
        if len(kept_results) != len(kept_order):
            raise PluginError(f"plugin 'easyocr': easyocr returned {len(kept_results)} results for "
                              f"{len(kept_order)} boxes; cannot put restored crops back in place")
        results.update(zip(kept_order, kept_results))
    for i, crop in restored.items():
        crop_grey = cv2.cvtColor(np.ascontiguousarray(crop, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
        height, width = crop_grey.shape
        read = original(**{**raw_args, "img_cv_grey": crop_grey,
                           "horizontal_list": [[0, width, 0, height]], "free_list": []})
        text, confidence = (read[0][1], read[0][2]) if read else ("", 0.0)
        results[i] = (boxes[i].reported, text, confidence)

    ordered = [results[i] for i in _easyocr_order(boxes, args, reader.device) if i in results]
    return _format_like_easyocr(ordered, args, free, reader)


def _format_like_easyocr(result: list, args: dict, free: list, reader):
    """Apply ``recognize``'s output options (paragraph, detail, output_format) to raw results."""
    from easyocr.utils import get_paragraph, merge_to_free

    paragraph = args["paragraph"]
    if paragraph:
        mode = "rtl" if reader.model_lang == "arabic" else "ltr"
        result = get_paragraph(result, x_ths=args["x_ths"], y_ths=args["y_ths"], mode=mode)
    if args["detail"] == 0:
        return [item[1] for item in result]

    def record(item) -> dict:
        entry = {"boxes": item[0], "text": item[1]}
        if not paragraph:
            entry["confident"] = item[2]
        return entry

    output_format = args["output_format"]
    if output_format == "dict":
        return [record(item) for item in result]
    if output_format == "json":
        return [json.dumps({**record(item), "boxes": [[int(v) for v in point] for point in item[0]]},
                           ensure_ascii=False) for item in result]
    if output_format == "free_merge":
        return merge_to_free(result, free)
    return result
