"""Render the demo image: shop signs and small print on a textured wall.

Run once to regenerate ``examples/street_sign.jpg``; the committed JPEG is what ``make demo`` reads.
Small lines are rendered large, then shrunk, blurred and JPEG-compressed, the way a distant
sign reaches a phone camera: their text ends up 9 to 15 px tall.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
W, H = 1024, 640


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_manager.findfont(name), size)


def wall(rng: np.random.Generator) -> Image.Image:
    y, x = np.mgrid[0:H, 0:W]
    base = 170 + 25 * np.sin(x / 97.0) * np.cos(y / 61.0) + rng.normal(0, 9, (H, W))
    bricks = ((y // 40) % 2 == 0) ^ (((x + 40 * ((y // 40) % 2)) // 80) % 2 == 0)
    base = base - 14 * bricks
    rgb = np.stack([base * 1.02, base * 0.93, base * 0.82], axis=2)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def small_print(text: str, height_px: int, fg, bg, blur: float, rng) -> Image.Image:
    """Text rendered at 4x, then shrunk so its cap height is about ``height_px``."""
    f = font("DejaVu Sans", height_px * 4)
    l, t, r, b = f.getbbox(text)
    big = Image.new("RGB", (r - l + 24, b - t + 24), bg)
    ImageDraw.Draw(big).text((12 - l, 12 - t), text, font=f, fill=fg)
    small = big.resize((max(1, big.width // 4), max(1, big.height // 4)), Image.LANCZOS)
    small = small.filter(ImageFilter.GaussianBlur(blur))
    noisy = np.asarray(small).astype(np.float32) + rng.normal(0, 4, (small.height, small.width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def main() -> None:
    rng = np.random.default_rng(7)
    img = wall(rng)
    d = ImageDraw.Draw(img)
    # A large shop sign.
    d.rounded_rectangle((80, 50, 940, 190), 18, fill=(32, 62, 110))
    d.text((120, 70), "CORNER BAKERY", font=font("DejaVu Sans", 84), fill=(250, 235, 190))
    # A medium poster.
    d.rectangle((80, 240, 520, 420), fill=(245, 242, 232))
    d.text((100, 255), "Fresh bread", font=font("DejaVu Serif", 44), fill=(120, 30, 30))
    d.text((100, 320), "every morning", font=font("DejaVu Serif", 36), fill=(60, 60, 60))
    # Small print, as a distant camera sees it.
    lines = [
        ("Open daily 7am to 9pm", 13, (20, 20, 20), (245, 242, 232), 0.6, (100, 372)),
        ("Tel 555 0142", 11, (20, 20, 20), (245, 242, 232), 0.7, (330, 372)),
        ("Closed on public holidays", 10, (40, 40, 40), (230, 225, 210), 0.7, (600, 250)),
        ("Cash and cards accepted", 12, (30, 30, 30), (230, 225, 210), 0.6, (600, 290)),
        ("www.cornerbakery.example", 11, (10, 40, 120), (230, 225, 210), 0.8, (600, 330)),
        ("Please ring the bell", 9, (30, 30, 30), (230, 225, 210), 0.6, (600, 370)),
    ]
    d.rectangle((585, 235, 950, 410), fill=(230, 225, 210))
    for text, h, fg, bg, blur, (x, y) in lines:
        img.paste(small_print(text, h, fg, bg, blur, rng), (x, y))
    d.rectangle((80, 470, 950, 590), fill=(250, 250, 250))
    d.text((100, 485), "Daily special: apple pie 4.50", font=font("DejaVu Sans", 30), fill=(20, 90, 40))
    img.paste(small_print("Ask about gluten free options inside", 12, (60, 60, 60), (250, 250, 250), 0.7, rng), (100, 540))
    img.save(HERE / "street_sign.jpg", quality=88)


if __name__ == "__main__":
    main()
