"""Realistic low-resolution text: what a lower-resolution camera makes of a word crop.

The HR target is the crop resized (antialiased) to ``hr_height`` (32). The LR input is made
from the *original* crop: an antialiased downscale so the word is ``hr_height / f`` pixels
tall with ``f`` drawn from ``[min_factor, max_factor]`` (2 to 4, i.e. 8 to 16 px text), then
camera-like damage at that small size (Gaussian blur, contrast loss, sensor noise, JPEG),
and finally a bicubic resize to the model's input height ``lr_height`` (16), which is what
the restorer does to a small crop at inference time. All randomness comes from the
``numpy.random.Generator`` passed in, so a seed reproduces every pixel.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, fields

import numpy as np
from PIL import Image, ImageFilter

# Antialiased downscaling filters; real cameras and resizers differ, so training sees several.
_DOWN_FILTERS = (Image.Resampling.BOX, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC,
                 Image.Resampling.LANCZOS)


@dataclass
class DegradeConfig:
    """Knobs of the LR simulation; the defaults are the shipped training settings."""

    hr_height: int = 32
    lr_height: int = 16
    min_factor: float = 2.0          # text height after downscale = hr_height / factor
    max_factor: float = 4.0
    clean_prob: float = 0.0          # share of samples with no camera damage at all (clean resize)
    blur_prob: float = 0.5
    blur_sigma: tuple = (0.3, 1.0)   # px at the small (camera) size
    contrast_prob: float = 0.3
    contrast: tuple = (0.45, 1.0)    # 1 = unchanged; lower pulls towards the mean grey
    noise_prob: float = 0.4
    noise_sigma: tuple = (1.0, 8.0)  # grey levels (0..255)
    jpeg_prob: float = 0.5
    jpeg_quality: tuple = (35, 90)
    width_step: int = 8              # aspect-preserving LR widths are multiples of this
    min_lr_width: int = 16
    max_lr_width: int = 128

    @classmethod
    def from_dict(cls, values: dict | None) -> "DegradeConfig":
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            from ..errors import UsageError

            raise UsageError(f"unknown degradation option(s): {', '.join(sorted(unknown))}")
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(value)
        return cls(**values)


def aspect_lr_width(height: int, width: int, cfg: DegradeConfig) -> int:
    """LR width keeping the crop's aspect ratio at ``lr_height``, snapped to ``width_step``."""
    raw = width / max(height, 1) * cfg.lr_height
    snapped = int(round(raw / cfg.width_step)) * cfg.width_step
    return int(min(max(snapped, cfg.min_lr_width), cfg.max_lr_width))


def _resize(image: np.ndarray, width: int, height: int, resample=Image.Resampling.BICUBIC) -> np.ndarray:
    # PIL widens the kernel when shrinking, so every downscale here is antialiased.
    return np.asarray(Image.fromarray(image).resize((int(width), int(height)), resample))


def make_hr(image: np.ndarray, lr_width: int, cfg: DegradeConfig) -> np.ndarray:
    """The SR target: the crop at ``hr_height`` x ``2 * lr_width`` (antialiased)."""
    scale = cfg.hr_height // cfg.lr_height
    return _resize(image, lr_width * scale, cfg.hr_height, Image.Resampling.LANCZOS)


def camera_damage(small: np.ndarray, rng: np.random.Generator, cfg: DegradeConfig) -> np.ndarray:
    """Blur, contrast loss, noise and JPEG applied (each at random) to a small image."""
    pil = Image.fromarray(small)
    if rng.random() < cfg.blur_prob:
        pil = pil.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(*cfg.blur_sigma))))
    out = np.asarray(pil).astype(np.float32)
    if rng.random() < cfg.contrast_prob:
        factor = float(rng.uniform(*cfg.contrast))
        mean = out.mean(axis=(0, 1), keepdims=True)
        out = mean + (out - mean) * factor
    if rng.random() < cfg.noise_prob:
        sigma = float(rng.uniform(*cfg.noise_sigma))
        out = out + rng.normal(0.0, sigma, size=out.shape).astype(np.float32)
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg_prob:
        buffer = io.BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(*cfg.jpeg_quality)))
        buffer.seek(0)
        out = np.asarray(Image.open(buffer).convert("RGB"))
    return out


def make_lr(image: np.ndarray, lr_width: int, rng: np.random.Generator, cfg: DegradeConfig) -> np.ndarray:
    """A realistic LR version of ``image`` at ``lr_height`` x ``lr_width`` (see module doc)."""
    return make_lr_and_native(image, lr_width, rng, cfg)[0]


def make_lr_and_native(image: np.ndarray, lr_width: int, rng: np.random.Generator,
                       cfg: DegradeConfig) -> tuple[np.ndarray, np.ndarray]:
    """:func:`make_lr` plus the damaged word at its native small size (``32 / f`` px tall): what
    a camera delivered, which an engine reads as is when nothing restores it (identity)."""
    factor = float(rng.uniform(cfg.min_factor, cfg.max_factor))
    scale = cfg.hr_height / cfg.lr_height
    small_h = max(2, int(round(cfg.hr_height / factor)))
    small_w = max(2, int(round(lr_width * scale / factor)))
    resample = _DOWN_FILTERS[int(rng.integers(len(_DOWN_FILTERS)))]
    small = _resize(image, small_w, small_h, resample)
    # Always drawn, so the rest of the random stream does not depend on clean_prob.
    if rng.random() >= cfg.clean_prob:
        small = camera_damage(small, rng, cfg)
    return _resize(small, lr_width, cfg.lr_height, Image.Resampling.BICUBIC), small


def make_pair(
    image: np.ndarray, rng: np.random.Generator, cfg: DegradeConfig, textzoom: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(lr, hr)`` RGB ``uint8`` pair; TextZoom geometry (16x64 -> 32x128) or the crop's aspect."""
    lr_width = 64 if textzoom else aspect_lr_width(image.shape[0], image.shape[1], cfg)
    return make_lr(image, lr_width, rng, cfg), make_hr(image, lr_width, cfg)
