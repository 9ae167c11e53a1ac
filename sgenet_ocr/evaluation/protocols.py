"""Evaluation protocols: how a LR/HR pair is made from a word crop (or read from an LMDB).

* ``textzoom``: LMDB pairs as stored; for a crops folder, HR = the crop resized to 128x32 and
  LR = its bicubic 64x16 downscale (TextZoom's geometry).
* ``half`` / ``third``: HR = the native crop; LR = the crop downscaled by 2 or 3 with an
  antialiased bicubic filter (what a camera of half/third the resolution sees).
* ``half-blur``: ``half``, then a Gaussian blur (sigma ``BLUR_SIGMA`` px at LR scale) and JPEG
  at quality ``JPEG_QUALITY``: out-of-focus, compressed small text.

The LR text height (the LR crop's height: word crops are tight boxes) sorts pairs into
:data:`LR_HEIGHT_BUCKETS` ``<=8``, ``9-12``, ``13-16`` and ``>16`` (not the benchmarks'
``TEXT_HEIGHT_BUCKETS``, which sort words by their text height on a page).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from ..errors import UsageError
from ..imaging import resize  # PIL bicubic: antialiased when shrinking
from ..metrics import normalize_text

PROTOCOLS = ("textzoom", "half", "third", "half-blur")
LR_HEIGHT_BUCKETS = ("<=8", "9-12", "13-16", ">16")
BLUR_SIGMA = 0.8
JPEG_QUALITY = 50
_FACTORS = {"half": 2, "third": 3, "half-blur": 2}


@dataclass
class WordPair:
    """One evaluation item, a word crop's LR/HR pair: RGB ``uint8`` LR and HR, the word, its split
    and source."""

    lr: np.ndarray
    hr: np.ndarray
    label: str
    split: str = "all"
    source: str = ""

    @property
    def bucket(self) -> str:
        return lr_height_bucket(self.lr.shape[0])


def lr_height_bucket(height: int) -> str:
    if height <= 8:
        return "<=8"
    if height <= 12:
        return "9-12"
    if height <= 16:
        return "13-16"
    return ">16"


def degrade(hr: np.ndarray, protocol: str) -> np.ndarray:
    """The LR image of a native crop under ``protocol`` (deterministic)."""
    if protocol == "textzoom":
        return resize(resize(hr, 128, 32), 64, 16)
    if protocol not in _FACTORS:
        raise UsageError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    f = _FACTORS[protocol]
    h, w = hr.shape[:2]
    lr = resize(hr, max(2, int(round(w / f))), max(2, int(round(h / f))))
    if protocol == "half-blur":
        blurred = Image.fromarray(lr).filter(ImageFilter.GaussianBlur(radius=BLUR_SIGMA))
        buffer = io.BytesIO()
        blurred.save(buffer, format="JPEG", quality=JPEG_QUALITY)
        buffer.seek(0)
        lr = np.asarray(Image.open(buffer).convert("RGB"))
    return lr


def reference(hr: np.ndarray, protocol: str) -> np.ndarray:
    """The HR image a protocol compares against (128x32 for ``textzoom`` crops)."""
    return resize(hr, 128, 32) if protocol == "textzoom" else hr


def load_samples(data: str | Path, protocol: str, limit: int | None = None,
                 max_crop_height: int | None = None) -> tuple[list[WordPair], int]:
    """Samples of a crops folder or TextZoom LMDB (or its easy/medium/hard folder).

    Words whose label is empty under the TextZoom protocol are skipped; returns
    ``(samples, skipped)``. ``limit`` caps the samples per split. ``max_crop_height`` keeps a
    crops folder's crops at most that tall (e.g. 23: the training folders' crops that training
    never uses, ``data.min_hr_height`` 24, which ``half`` makes into dev-like words <= 12 px).
    """
    from ..data.textzoom import is_lmdb, open_splits

    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    path = Path(data)
    samples: list[WordPair] = []
    skipped = 0
    if (path / "labels.tsv").is_file():
        from ..data.crops import load_crops

        for crop in load_crops(path):
            if max_crop_height is not None and crop.height > max_crop_height:
                continue
            if not normalize_text(crop.label):
                skipped += 1
                continue
            if limit is not None and len(samples) >= limit:
                break
            samples.append(WordPair(degrade(crop.image, protocol), reference(crop.image, protocol),
                                  crop.label, "all", crop.source))
        return samples, skipped
    if not path.exists():
        raise UsageError(f"evaluation data not found: {path}")
    if max_crop_height is not None:
        raise UsageError(f"{path}: a crop height limit applies to crops folders (labels.tsv), not to TextZoom LMDBs")
    if not (is_lmdb(path) or any(is_lmdb(path / s) for s in ("easy", "medium", "hard"))):
        raise UsageError(f"{path}: not a crops folder (labels.tsv) nor a TextZoom LMDB")
    for split, db in open_splits(path).items():
        taken = 0
        for index in range(len(db)):
            if limit is not None and taken >= limit:
                break
            pair = db[index]
            if not normalize_text(pair.label):
                skipped += 1
                continue
            # LMDB pairs are used as stored for textzoom; other protocols degrade the HR.
            lr = pair.lr if protocol == "textzoom" else degrade(pair.hr, protocol)
            samples.append(WordPair(lr, pair.hr, pair.label, split, f"{path.name}/{split}/{index + 1}"))
            taken += 1
        db.close()
    return samples, skipped
