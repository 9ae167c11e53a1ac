"""The ``sgenet`` restorer: SGENet x2 on arbitrary text crops.

Each crop is resized (bicubic) to height 16 keeping its aspect ratio, width clamped to
16..512; crops are grouped into width buckets (multiples of ``bucket``), padded on the right by
edge replication, run in batches without gradients, and cropped back, so each crop comes out
32 px tall and twice its resized width. A crop's result depends only on the crop itself (the
model has no cross-sample terms in eval mode), so batching never changes the output.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import UsageError
from ..imaging import array_to_rgb, resize
from ..models import create_model
from ..models.sgenet import MAX_WIDTH, MIN_WIDTH
from . import Restorer


def lr_width(height: int, width: int, target_height: int) -> int:
    """Width at ``target_height`` with the aspect ratio kept, clamped to the model's range."""
    return int(min(MAX_WIDTH, max(MIN_WIDTH, round(width * target_height / max(height, 1)))))


def bucket_width(width: int, bucket: int) -> int:
    return min(MAX_WIDTH, -(-width // bucket) * bucket)


def resolve_device(device: str) -> torch.device:
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {device!r} asked for, but no CUDA GPU is available")
    return dev


class SgenetRestorer(Restorer):
    """SGENet super-resolution of text crops (scale 2, output height 32)."""

    name = "sgenet"
    scale = 2

    def __init__(self, weights: str | Path | bool = True, device: str = "cpu", batch_size: int = 32,
                 bucket: int = 16):
        self.device = resolve_device(device)
        self.model = create_model("sgenet", pretrained=weights).to(self.device).eval()
        self.input_height = self.model.config.input_height
        self.batch_size = max(1, int(batch_size))
        self.bucket = max(1, int(bucket))

    def prepare(self, crop: np.ndarray) -> np.ndarray:
        """RGB uint8 crop at the model's input height (16) and its own aspect ratio."""
        rgb = array_to_rgb(crop)
        h, w = rgb.shape[:2]
        return resize(rgb, lr_width(h, w, self.input_height), self.input_height)

    @torch.no_grad()
    def restore(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        small = [self.prepare(c) for c in crops]
        buckets: dict[int, list[int]] = defaultdict(list)
        for i, img in enumerate(small):
            buckets[bucket_width(img.shape[1], self.bucket)].append(i)
        out: list[np.ndarray | None] = [None] * len(small)
        for width, members in sorted(buckets.items()):
            for start in range(0, len(members), self.batch_size):
                chunk = members[start:start + self.batch_size]
                batch = self._batch([small[i] for i in chunk], width).to(self.device)
                sr = self.model(batch)
                images = (sr.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
                for i, img in zip(chunk, images):
                    out[i] = np.ascontiguousarray(img[:, : small[i].shape[1] * self.scale])
        return out  # type: ignore[return-value]

    @staticmethod
    def _batch(images: list[np.ndarray], width: int) -> torch.Tensor:
        """Stack crops padded on the right to ``width`` by edge replication (no hard borders)."""
        padded = [np.pad(img, ((0, 0), (0, width - img.shape[1]), (0, 0)), mode="edge") for img in images]
        return torch.from_numpy(np.stack(padded)).permute(0, 3, 1, 2).float().div_(255)

    def close(self) -> None:
        self.model = None
