"""Folders of word crops: ``images/`` plus ``labels.tsv`` (``file<TAB>text`` per line)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import UsageError
from ..imaging import load_image


@dataclass(eq=False)  # pixels: equality is identity
class Crop:
    """One word crop: RGB ``uint8`` pixels ``(h, w, 3)``, its label and where it came from.

    ``protocol`` (``half``, ``third``, ``half-blur``) marks a word that training pairs make small
    as that evaluation protocol does, instead of by the training simulation: a real small word.
    """

    image: np.ndarray
    label: str
    source: str
    protocol: str | None = None

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


def read_labels(folder: str | Path) -> list[tuple[str, str]]:
    """``(file name, text)`` pairs of a crops folder, in file order.

    Lines without a tab are rejected with one clear error; a label may contain spaces.
    """
    folder = Path(folder)
    tsv = folder / "labels.tsv"
    if not tsv.is_file():
        raise UsageError(f"not a crops folder (no labels.tsv): {folder}")
    pairs = []
    for number, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise UsageError(f"{tsv}:{number}: expected 'file<TAB>text'")
        name, text = line.split("\t", 1)
        pairs.append((name, text))
    return pairs


def load_crops(
    folders: str | Path | Iterable[str | Path],
    min_height: int = 1,
    limit: int | None = None,
    skip_labels: Sequence[str] = ("###",),
) -> list[Crop]:
    """Load every crop of one or more folders into memory.

    ``min_height`` drops crops too small to serve as a super-resolution target;
    ``skip_labels`` drops don't-care marks. ``limit`` caps the count per folder.
    """
    if isinstance(folders, (str, Path)):
        folders = [folders]
    crops: list[Crop] = []
    for folder in folders:
        folder = Path(folder)
        taken = 0
        for name, text in read_labels(folder):
            if limit is not None and taken >= limit:
                break
            if text in skip_labels:
                continue
            image = load_image(folder / "images" / name)
            if image.shape[0] < min_height:
                continue
            crops.append(Crop(image, text, f"{folder.name}/{name}"))
            taken += 1
    return crops
