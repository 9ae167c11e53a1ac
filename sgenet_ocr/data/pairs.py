"""LR/HR training pairs made on the fly from crops, batched by LR width.

Aspect-preserving pairs have different widths, so a batch only holds crops of one width
bucket (:class:`WidthBucketSampler`); a ``textzoom_fraction`` of the samples instead use
TextZoom's fixed 16x64 -> 32x128 geometry. Every sample gets its own seed from the sampler,
so a run is reproducible from its seed. For ``base="crop"`` models each item also carries the
base the restorers will make at inference: the damaged native-size word enlarged once to the
output size (the HR size, or ``output_scale`` times the LR input). A crop marked with an
evaluation protocol (``Crop.protocol``) is made small the way that protocol does, not by the
training simulation: the validation words, and real small words trained on.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..evaluation.protocols import degrade
from ..imaging import enlarge_once, resize
from .crops import Crop
from .degrade import DegradeConfig, aspect_lr_width, make_hr, make_lr_and_native

TEXTZOOM_LR_WIDTH = 64


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """RGB ``uint8`` ``(h, w, 3)`` -> float ``(3, h, w)`` in [0, 1]."""
    return torch.from_numpy(np.array(image, dtype=np.uint8, copy=True)).permute(2, 0, 1).float().div_(255.0)


class PairDataset(Dataset):
    """Indexed by ``(crop index, lr width, sample seed)`` tuples from the sampler."""

    def __init__(self, crops: Sequence[Crop], cfg: DegradeConfig, keep_native: bool = False,
                 base: str = "bicubic", output_scale: int = 2):
        self.crops = list(crops)
        self.cfg = cfg
        self.keep_native = keep_native  # validation: items also carry the native-size LR word
        self.with_base = base == "crop"  # the model's SGENetConfig.base
        self.output_scale = output_scale  # the base's size over the LR input's (SGENet.output_scale)

    def __len__(self) -> int:
        return len(self.crops)

    def aspect_widths(self) -> list[int]:
        return [aspect_lr_width(c.height, c.width, self.cfg) for c in self.crops]

    def __getitem__(self, key) -> dict:
        index, lr_width, seed = key
        crop = self.crops[index]
        lr, native = self.lr_and_native(crop, lr_width, seed)
        hr = make_hr(crop.image, lr_width, self.cfg)
        item = {"lr": to_tensor(lr), "hr": to_tensor(hr), "label": crop.label}
        if self.with_base:
            item["base"] = to_tensor(enlarge_once(native, self.output_scale * lr.shape[1],
                                                  self.output_scale * lr.shape[0]))
        if self.keep_native:
            item["native"] = native
        return item

    def lr_and_native(self, crop: Crop, lr_width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The model's LR input and the small word it was made from: by the crop's evaluation
        protocol (``half`` halves it; deterministic) or else by the training simulation. Either
        word is then resized to the model's input height."""
        if crop.protocol:
            native = degrade(crop.image, crop.protocol)
            return resize(native, lr_width, self.cfg.lr_height), native
        return make_lr_and_native(crop.image, lr_width, np.random.default_rng(seed), self.cfg)


# A bucket's last batch is kept from this size on, whatever the batch size: at a GPU's 512 a
# quarter batch is 128, more crops than the widest buckets hold, which would never be trained.
MIN_TAIL = 16


class WidthBucketSampler(Sampler):
    """Endless batches of ``(index, lr_width, seed)`` keys, one LR width per batch.

    Each pass shuffles all crops, sends a ``textzoom_fraction`` of them to the 64-wide
    TextZoom bucket and the rest to their aspect width, cuts each bucket into batches
    (batches of wide buckets shrink when ``width_budget`` is set: memory grows with batch x
    width; a tail shorter than a quarter batch and than ``MIN_TAIL`` is dropped for this pass
    only: the next pass reshuffles) and shuffles the batch order. ``start_batch`` skips batches so a resumed run continues the same stream.
    """

    def __init__(self, widths: Sequence[int], batch_size: int, seed: int = 0,
                 textzoom_fraction: float = 0.25, start_batch: int = 0, width_budget: int | None = None):
        self.widths = list(widths)
        self.batch_size = batch_size
        self.width_budget = width_budget
        self.seed = seed
        self.textzoom_fraction = textzoom_fraction
        self.start_batch = start_batch

    def _epoch_batches(self, epoch: int) -> list[list[tuple[int, int, int]]]:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.widths))
        buckets: dict[int, list[tuple[int, int, int]]] = {}
        seeds = rng.integers(0, 2**31 - 1, size=len(order))
        textzoom = rng.random(len(order)) < self.textzoom_fraction
        for k, index in enumerate(order):
            width = TEXTZOOM_LR_WIDTH if textzoom[k] else self.widths[index]
            buckets.setdefault(width, []).append((int(index), int(width), int(seeds[k])))
        batches = []
        for width, items in buckets.items():
            size = self.batch_size_for(width)
            for start in range(0, len(items), size):
                chunk = items[start:start + size]
                if len(chunk) * 4 >= size or len(chunk) >= MIN_TAIL:
                    batches.append(chunk)
        rng.shuffle(batches)
        return batches

    def batch_size_for(self, width: int) -> int:
        """``batch_size``, shrunk for buckets wider than ``width_budget`` so that
        ``batch * width`` (hence memory) never exceeds ``batch_size * width_budget``."""
        if not self.width_budget or width <= self.width_budget:
            return self.batch_size
        return max(1, self.batch_size * self.width_budget // width)

    def largest_batch_width(self) -> int:
        """The most LR columns one batch can hold (batch size x width), over every width it makes."""
        return max(self.batch_size_for(w) * w for w in {*self.widths, TEXTZOOM_LR_WIDTH})

    def __iter__(self) -> Iterator[list[tuple[int, int, int]]]:
        produced, epoch = 0, 0
        while True:
            for batch in self._epoch_batches(epoch):
                if produced >= self.start_batch:
                    yield batch
                produced += 1
            epoch += 1


def collate(items: list[dict]) -> dict:
    """Stack a one-width batch; labels stay a list of strings."""
    batch = {key: torch.stack([it[key] for it in items]) for key in ("lr", "hr", "base") if key in items[0]}
    batch["label"] = [it["label"] for it in items]
    if "native" in items[0]:
        batch["native"] = [it["native"] for it in items]
    return batch
