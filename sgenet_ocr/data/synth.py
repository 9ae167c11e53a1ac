"""Synthetic word crops rendered with real TrueType fonts, to add volume to the real crops.

Fonts: the DejaVu and STIX families that matplotlib ships (always present with the ``train``
extra) plus any ``.ttf`` under ``/usr/share/fonts``; symbol-only faces are skipped. Each word
gets a random font, size, text colour and a contrasting background (flat, gradient or
noisy), a small rotation (within ``max_rotation`` degrees) and a tight crop with a margin, so
it looks like an HR scene-text crop; the LR side is made later by :mod:`.degrade`.
"""
from __future__ import annotations

import os
import string
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import MissingDependencyError, UsageError
from .crops import Crop

# Faces whose glyphs are symbols or extension blocks, not Latin text.
_SKIP_FONT_PARTS = ("STIXSiz", "STIXNonUni", "cmex", "cmsy", "cmmi", "LastResort", "Display")


FONT_DIR_ENV = "SGENET_FONT_DIR"


@lru_cache(maxsize=1)
def font_files() -> tuple[str, ...]:
    """TrueType fonts usable for Latin words: those under ``$SGENET_FONT_DIR`` when set (the GPU
    kit carries its own), else matplotlib's bundle, then system fonts."""
    override = os.environ.get(FONT_DIR_ENV)
    if override:
        found = tuple(str(p) for p in sorted(Path(override).rglob("*.ttf")))
        if not found:
            raise UsageError(f"{FONT_DIR_ENV} holds no .ttf fonts: {override}")
        return found
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError("matplotlib", "train", "synthetic words need matplotlib's fonts") from None
    folders = [Path(matplotlib.get_data_path()) / "fonts" / "ttf", Path("/usr/share/fonts")]
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [str(p) for p in sorted(folder.rglob("*.ttf"))
                      if not any(part in p.name for part in _SKIP_FONT_PARTS)]
    if not found:
        raise MissingDependencyError("matplotlib", "train", "no TrueType fonts found for synthetic words")
    return tuple(found)


def random_word(rng: np.random.Generator) -> str:
    """A random letters/digits string with a random case pattern (2 to 10 characters)."""
    length = int(rng.integers(2, 11))
    kind = rng.random()
    if kind < 0.15:
        alphabet = string.digits
    elif kind < 0.3:
        alphabet = string.ascii_uppercase + string.digits
    else:
        alphabet = string.ascii_lowercase
    word = "".join(rng.choice(list(alphabet), size=length))
    if alphabet is string.ascii_lowercase:
        style = rng.random()
        word = word.upper() if style < 0.3 else word.capitalize() if style < 0.6 else word
    return word


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Text and background RGB colours at least 80 grey levels apart."""
    while True:
        fg, bg = rng.integers(0, 256, size=3), rng.integers(0, 256, size=3)
        if abs(float(fg.mean()) - float(bg.mean())) >= 80:
            return fg, bg


def _background(rng: np.random.Generator, size: tuple[int, int], colour: np.ndarray) -> np.ndarray:
    w, h = size
    base = np.broadcast_to(colour.astype(np.float32), (h, w, 3)).copy()
    style = rng.random()
    if style < 0.35:  # linear gradient
        ramp = np.linspace(-1, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
        ramp = ramp[None, :, None] if ramp.shape[0] == w else ramp[:, None, None]
        base += ramp * float(rng.uniform(10, 40))
    elif style < 0.6:  # texture
        base += rng.normal(0, float(rng.uniform(3, 15)), size=base.shape).astype(np.float32)
    return np.clip(base, 0, 255)


def render_word(text: str, rng: np.random.Generator, max_rotation: float = 4.0) -> np.ndarray:
    """One RGB ``uint8`` crop of ``text`` (see module doc)."""
    fonts = font_files()
    font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))], size=int(rng.integers(40, 72)))
    left, top, right, bottom = font.getbbox(text)
    margin = int(rng.integers(4, 14))
    size = (right - left + 2 * margin, bottom - top + 2 * margin)
    fg, bg = _colours(rng)
    background = _background(rng, size, bg)
    # Draw the text as a mask so the background texture survives around the glyphs.
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).text((margin - left, margin - top), text, fill=255, font=font)
    alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
    image = Image.fromarray((background * (1 - alpha) + fg.astype(np.float32) * alpha).astype(np.uint8))
    angle = float(rng.uniform(-max_rotation, max_rotation))
    if abs(angle) > 0.3:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False,
                             fillcolor=tuple(int(c) for c in bg))
    return np.asarray(image)


def render_words(count: int, seed: int = 0, words: Sequence[str] | None = None,
                 max_rotation: float = 4.0) -> list[Crop]:
    """``count`` synthetic crops; labels drawn from ``words`` (half of them) and random strings."""
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        text = words[int(rng.integers(len(words)))] if words and rng.random() < 0.5 else random_word(rng)
        crops.append(Crop(render_word(text, rng, max_rotation), text, f"synth/{seed}/{i}"))
    return crops
