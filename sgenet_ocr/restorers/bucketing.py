"""Crop preparation and width bucketing shared by the SGENet restorers (torch and ONNX).

Each crop at most the model's input height (16 px) tall is resized (bicubic) to that height
keeping its aspect ratio, width clamped to 16..512; crops are grouped into width buckets
(multiples of ``bucket``), padded on the right by edge replication, run batch by batch through
a backend function, and cropped back, so each comes out ``scale`` times its resized size.
Taller crops are not small text: shrinking them to 16 px would lose detail, so they get
bicubic x``scale`` at their own size. A crop's result depends only on the crop (the model has
no cross-sample terms in eval mode); batching changes only float summation order, at most
one grey level.

For ``base="crop"`` weights (``with_base``) each crop is also enlarged once, straight from its
own pixels to the output size (:func:`~sgenet_ocr.imaging.enlarge_once`), padded the same way
and passed as ``run(batch, ..., base=bases)``.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

import numpy as np

from ..imaging import array_to_rgb, enlarge_once, resize
from ..models.sgenet import MAX_WIDTH, MIN_WIDTH
from . import bicubic_upscale

#: A backend: float32 ``(N, 3, h, W)`` in [0, 1] -> float ``(N, 3, scale*h, scale*W)``. Called
#: as ``run(batch, probs)`` with one prior-probability array per crop when they are given, and
#: with ``base=`` (float32 ``(N, 3, scale*h, scale*W)``) for ``base="crop"`` weights.
BatchRunner = Callable[..., np.ndarray]


def lr_width(height: int, width: int, target_height: int) -> int:
    """Width at ``target_height`` with the aspect ratio kept, clamped to the model's range."""
    return int(min(MAX_WIDTH, max(MIN_WIDTH, round(width * target_height / max(height, 1)))))


def bucket_width(width: int, bucket: int) -> int:
    return min(MAX_WIDTH, -(-width // bucket) * bucket)


def prepare_crop(crop: np.ndarray, height: int) -> np.ndarray:
    """RGB uint8 crop at ``height`` and its own aspect ratio (width clamped)."""
    rgb = array_to_rgb(crop)
    h, w = rgb.shape[:2]
    return resize(rgb, lr_width(h, w, height), height)


def pad_batch(images: Sequence[np.ndarray], width: int) -> np.ndarray:
    """Float32 ``(N, 3, h, width)`` in [0, 1]: crops padded on the right by edge replication.

    Replicating the last column avoids a hard border the network would try to sharpen.
    """
    h = images[0].shape[0]
    batch = np.empty((len(images), h, width, 3), dtype=np.uint8)
    for slot, img in zip(batch, images):
        w = img.shape[1]
        slot[:, :w] = img
        slot[:, w:] = img[:, -1:]
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(1 / 255)


def to_uint8_images(sr: np.ndarray) -> np.ndarray:
    """Float ``(N, 3, H, W)`` in [0, 1] -> uint8 ``(N, H, W, 3)`` (rounded, clipped)."""
    return np.clip(np.asarray(sr, dtype=np.float32) * 255, 0, 255).round().astype(np.uint8).transpose(0, 2, 3, 1)


def restore_in_buckets(crops: Sequence[np.ndarray], run: BatchRunner, *, input_height: int, scale: int,
                       bucket: int, batch_for: Callable[[int], int],
                       prior_probs: Sequence[np.ndarray | None] | None = None,
                       with_base: bool = False) -> list[np.ndarray]:
    """Prepare ``crops``, run them through ``run`` by width bucket, return RGB uint8 results.

    Crops taller than ``input_height`` are upscaled bicubically instead (see below), so every
    result is ``scale`` times its crop's height.

    ``batch_for(width)`` gives the most crops per call at that bucket width. Crops with
    ``prior_probs`` (not ``None``) are batched apart from those without and their arrays are
    passed on: ``run(batch, probs)``. ``with_base``: each batch also gets its crops' bases.
    """
    out: list[np.ndarray | None] = [None] * len(crops)
    small: dict[int, np.ndarray] = {}
    bases: dict[int, np.ndarray] = {}
    guide = list(prior_probs) if prior_probs is not None else [None] * len(crops)
    buckets: dict[tuple[int, bool], list[int]] = defaultdict(list)
    for i, crop in enumerate(crops):
        rgb = array_to_rgb(crop)
        if rgb.shape[0] > input_height:
            # Text taller than the model's input would have to be shrunk first, throwing away
            # the detail SR needs (measured: worse than bicubic), so it gets plain bicubic.
            out[i] = bicubic_upscale(rgb, scale)
            continue
        small[i] = prepare_crop(rgb, input_height)
        if with_base:
            h, w = small[i].shape[:2]
            bases[i] = enlarge_once(rgb, scale * w, scale * h)
        buckets[bucket_width(small[i].shape[1], bucket), guide[i] is not None].append(i)
    for (width, guided), members in sorted(buckets.items()):
        step = max(1, int(batch_for(width)))
        for start in range(0, len(members), step):
            chunk = members[start:start + step]
            batch = pad_batch([small[i] for i in chunk], width)
            extra = {"base": pad_batch([bases[i] for i in chunk], scale * width)} if with_base else {}
            sr = run(batch, [guide[i] for i in chunk], **extra) if guided else run(batch, **extra)
            images = to_uint8_images(sr)
            for i, img in zip(chunk, images):
                out[i] = np.ascontiguousarray(img[:, : small[i].shape[1] * scale])
    return out  # type: ignore[return-value]


def batch_limit(width: int, batch_size: int) -> int:
    """Crops per batch at ``width``: ``batch_size`` crops of 16x64 worth of pixels, at least 1.

    Attention memory grows with width x prior steps, so wide buckets get smaller batches.
    """
    return max(1, min(batch_size, batch_size * 64 // width))
