"""Pictures of results: annotated pages and side-by-side restored crops."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .results import Page

RESTORED = (0, 200, 80)
KEPT = (30, 120, 255)
CHANGED = (255, 140, 0)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except Exception:  # noqa: BLE001 - any font will do for labels
        return ImageFont.load_default()


def annotate_page(image: np.ndarray, page: Page) -> Image.Image:
    """Boxes (green: restored, blue: as detected, orange: restoration changed the reading) and text."""
    canvas = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    size = max(10, min(canvas.size) // 60)
    font = _font(size)
    for word in page.words:
        colour = CHANGED if word.changed else RESTORED if word.restored else KEPT
        pts = [tuple(map(float, p)) for p in word.quad]
        draw.polygon(pts, outline=colour, width=max(1, size // 6))
        label = word.text if not word.changed else f"{word.baseline_text} -> {word.text}"
        x, y = pts[0]
        box = draw.textbbox((x, y - size - 2), label, font=font)
        draw.rectangle(box, fill=(255, 255, 255))
        draw.text((x, y - size - 2), label, fill=colour, font=font)
    legend = "green: restored   blue: engine only   orange: restoration changed the text"
    draw.text((5, 5), legend, fill=(0, 0, 0), font=font, stroke_width=2, stroke_fill=(255, 255, 255))
    return canvas


def side_by_side(original: np.ndarray, restored: np.ndarray, gap: int = 4) -> np.ndarray:
    """The original (nearest-upscaled to the restored height, so pixels stay visible) beside the restored crop."""
    h = restored.shape[0]
    scale = h / original.shape[0]
    left = np.asarray(Image.fromarray(original).resize((max(1, round(original.shape[1] * scale)), h), Image.NEAREST))
    out = np.full((h, left.shape[1] + gap + restored.shape[1], 3), 255, dtype=np.uint8)
    out[:, : left.shape[1]] = left
    out[:, left.shape[1] + gap:] = restored
    return out


def save_crops(page: Page, folder: Path, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, original, restored in page.crops:
        path = folder / f"{stem}_word{index:03d}.png"
        Image.fromarray(side_by_side(original, restored)).save(path)
        paths.append(path)
    return paths
