"""A PNG grid of sample words: LR, each restorer's output and HR, with the recognised text."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CELL_HEIGHT = 48       # every image is shown at this height (nearest-neighbour for LR pixels)
MAX_CELL_WIDTH = 240
TEXT_HEIGHT = 16
PAD = 4


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=12)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def _cell(image: np.ndarray, nearest: bool) -> Image.Image:
    h, w = image.shape[:2]
    width = min(MAX_CELL_WIDTH, max(8, int(round(w * CELL_HEIGHT / h))))
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BICUBIC
    return Image.fromarray(image).resize((width, CELL_HEIGHT), resample)


def save_grid(path: str | Path, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """``rows``: dicts with ``label`` and, per column name, ``(image, text)``.

    Column headers on top; each row shows the ground-truth label on the left, every image
    scaled to the same display height and the recogniser's reading under it.
    """
    font = _font()
    cells = [[_cell(row[c][0], nearest=(c == "lr")) for c in columns] for row in rows]
    col_w = [max([cells[r][c].width for r in range(len(rows))] + [60]) for c in range(len(columns))]
    label_w = 110
    row_h = CELL_HEIGHT + TEXT_HEIGHT + PAD
    width = label_w + sum(col_w) + PAD * (len(columns) + 1)
    height = TEXT_HEIGHT + PAD + row_h * len(rows)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    x = label_w + PAD
    for c, name in enumerate(columns):
        draw.text((x, 2), name, fill="black", font=font)
        x += col_w[c] + PAD
    for r, row in enumerate(rows):
        y = TEXT_HEIGHT + PAD + r * row_h
        draw.text((2, y + CELL_HEIGHT // 2 - 6), f"gt: {row['label']}"[:18], fill="black", font=font)
        x = label_w + PAD
        for c, name in enumerate(columns):
            canvas.paste(cells[r][c], (x, y))
            text = row[name][1]
            draw.text((x, y + CELL_HEIGHT + 1), text[:30] or "(empty)", font=font,
                      fill="darkgreen" if row.get("correct", {}).get(name) else "firebrick")
            x += col_w[c] + PAD
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
