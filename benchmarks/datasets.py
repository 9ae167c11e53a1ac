"""Readers for scene-level text annotations: ICDAR 2015 and SROIE layouts.

Both layouts keep the pages in ``images/`` and one annotation file per page in ``gts/``:

* ICDAR 2015: ``images/NAME.jpg`` + ``gts/gt_NAME.txt``, one word per line,
  ``x1,y1,x2,y2,x3,y3,x4,y4,text`` clockwise from the word's top-left corner; text ``###``
  marks a don't-care region. Files may start with a UTF-8 BOM.
* SROIE: ``images/NAME.jpg`` + ``gts/NAME.csv``, the same fields per text *line*.

In both, the text is everything after the eighth comma, so it may itself contain commas.
A line that cannot be read (too few fields, a non-numeric or non-finite coordinate, a quad
without area, empty text, bytes that are not UTF-8) is skipped and recorded in
:attr:`Dataset.bad_lines`; one bad line never stops a benchmark.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sgenet_ocr.geometry import quad_area
from sgenet_ocr.imaging import IMAGE_SUFFIXES

DONT_CARE = "###"


@dataclass
class GtText:
    """One annotated word (ICDAR 2015) or line (SROIE)."""

    quad: np.ndarray  # (4, 2) float32, clockwise from the text's top-left corner
    text: str
    dont_care: bool = False


@dataclass
class AnnotatedPage:
    """One page of a benchmark dataset and its annotated texts."""

    name: str
    image_path: Path
    items: list[GtText]


@dataclass
class Dataset:
    name: str
    root: Path
    layout: str  # "icdar2015" or "sroie"
    samples: list[AnnotatedPage]
    bad_lines: list[str] = field(default_factory=list)  # "file:line: reason"
    images_without_gt: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """JSON-ready counts for the benchmark settings."""
        items = [it for s in self.samples for it in s.items]
        return {
            "name": self.name,
            "layout": self.layout,
            "images": len(self.samples),
            "texts": sum(not it.dont_care for it in items),
            "dont_care": sum(it.dont_care for it in items),
            "bad_lines": len(self.bad_lines),
            "bad_line_examples": self.bad_lines[:5],
            "images_without_gt": len(self.images_without_gt),
        }


class BadLine(ValueError):
    """An annotation line that cannot be used; the message says why."""


def parse_line(line: str) -> GtText:
    """Parse ``x1,y1,...,x4,y4,text`` (text may contain commas) into a :class:`GtText`."""
    fields = line.split(",", 8)
    if len(fields) < 9:
        raise BadLine(f"expected 8 coordinates and a text, got {len(fields)} field(s)")
    try:
        coords = np.array([float(v) for v in fields[:8]], dtype=np.float64)
    except ValueError:
        raise BadLine("non-numeric coordinate") from None
    if not np.all(np.isfinite(coords)):
        raise BadLine("non-finite coordinate")
    text = fields[8].strip()
    if not text:
        raise BadLine("empty text")
    quad = coords.reshape(4, 2)
    if quad_area(quad) <= 0:
        raise BadLine("quad has no area")
    return GtText(quad=clockwise(quad).astype(np.float32), text=text, dont_care=text == DONT_CARE)


def clockwise(quad: np.ndarray) -> np.ndarray:
    """Keep the first corner (the text's top-left) but make the order clockwise (y down)."""
    x, y = quad[:, 0], quad[:, 1]
    signed = np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))
    return quad if signed >= 0 else quad[[0, 3, 2, 1]]


def read_annotation(path: Path) -> tuple[list[GtText], list[str]]:
    """All readable lines of one annotation file, and ``"file:line: reason"`` for the others."""
    items, bad = [], []
    for number, raw in enumerate(Path(path).read_bytes().split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(f"{path.name}:{number}: not UTF-8")
            continue
        line = line.lstrip("\ufeff").rstrip("\r\n")
        if not line.strip():
            continue
        try:
            items.append(parse_line(line))
        except BadLine as exc:
            bad.append(f"{path.name}:{number}: {exc}")
    return items, bad


def natural_key(name: str):
    """``img_2`` before ``img_10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def annotation_for(root: Path, stem: str) -> tuple[Path, str] | None:
    """The annotation file of an image and its layout, or None."""
    icdar = root / "gts" / f"gt_{stem}.txt"
    if icdar.is_file():
        return icdar, "icdar2015"
    sroie = root / "gts" / f"{stem}.csv"
    if sroie.is_file():
        return sroie, "sroie"
    return None


def load_dataset(root: str | Path, limit: int | None = None) -> Dataset:
    """Read a folder in either layout; ``limit`` keeps the first N images in natural order."""
    root = Path(root)
    image_dir = root / "images"
    if not image_dir.is_dir() or not (root / "gts").is_dir():
        from sgenet_ocr.errors import UsageError

        raise UsageError(f"{root}: expected images/ and gts/ folders (ICDAR 2015 or SROIE layout)")
    images = sorted((p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                    key=lambda p: natural_key(p.name))
    dataset = Dataset(name=root.name, root=root, layout="", samples=[])
    layouts = set()
    for image in images:
        if limit is not None and len(dataset.samples) >= limit:
            break
        found = annotation_for(root, image.stem)
        if found is None:
            dataset.images_without_gt.append(image.name)
            continue
        path, layout = found
        layouts.add(layout)
        items, bad = read_annotation(path)
        dataset.bad_lines.extend(bad)
        dataset.samples.append(AnnotatedPage(name=image.stem, image_path=image, items=items))
    dataset.layout = "+".join(sorted(layouts)) or "empty"
    return dataset
