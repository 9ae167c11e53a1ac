"""Loading images safely and converting them to the RGB ``uint8`` arrays the core works in."""
from __future__ import annotations

import errno
import hashlib
import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputImageError, UsageError

MAX_PIXELS = 80_000_000  # a 10000 x 8000 scan; beyond this it is a decompression bomb or a mistake
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pbm", ".pgm", ".ppm"}


def load_image(source) -> np.ndarray:
    """Read a path, bytes (``bytes``, ``bytearray``, ``memoryview``), a binary file object
    (anything with ``.read()``, e.g. ``io.BytesIO`` or ``open(..., "rb")``), a PIL image or an
    array into an ``(H, W, 3)`` RGB ``uint8`` array. Arrays are taken as RGB (RGBA, grey).

    Handles EXIF rotation, palette, grey, 16-bit, RGBA/LA (composited on white) and CMYK.
    Raises :class:`InputImageError` with a one-line reason for an unreadable image, and
    :class:`UsageError` for a value that is no kind of image source (``None``, a list ...).
    """
    if isinstance(source, np.ndarray):
        return array_to_rgb(source)
    if isinstance(source, Image.Image):
        return pil_to_rgb(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _open_checked(io.BytesIO(bytes(source)), "<bytes>")
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<file object>"))
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise UsageError(f"{name}: the file object gave {type(data).__name__}, not bytes: open it in binary mode")
        if not data:
            raise InputImageError(f"{name}: empty file")
        return _open_checked(io.BytesIO(data), name)
    if not isinstance(source, (str, os.PathLike)):
        raise UsageError(f"cannot read an image from {type(source).__name__}: pass a path, bytes, a binary "
                         "file object, a PIL image or an RGB array")
    path = Path(source)
    problem = path_problem(path)
    if problem:
        raise InputImageError(problem)
    if path.is_dir():
        raise InputImageError(f"{path}: is a folder, not an image")
    if path.stat().st_size == 0:
        raise InputImageError(f"{path}: empty file")
    return _open_checked(path, str(path))


def path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be reached, as a one-line message naming it, or None when it can:
    no such file, a broken symbolic link, a symbolic link loop, permission denied."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path}: broken symbolic link (to {os.readlink(path)})"
        return f"{path}: no such file"
    except PermissionError:
        return f"{path}: permission denied"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symbolic link loop"
        return f"{path}: cannot be read ({exc.strerror or exc})"
    return None


#: What Pillow's decoders raise on some damaged files besides OSError/ValueError: a TIFF whose
#: strip-offset tag type byte was flipped made ``load()`` raise TypeError (found by
#: tests/test_properties.py).
_DAMAGED_FILE_ERRORS = (TypeError, IndexError, EOFError, struct.error)


def _open_checked(fp, name: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(fp) as img:
                w, h = img.size
                if w == 0 or h == 0:
                    raise InputImageError(f"{name}: image has zero size ({w}x{h})")
                if w * h > MAX_PIXELS:
                    raise InputImageError(
                        f"{name}: image too large ({w}x{h} = {w * h / 1e6:.0f} MP, limit "
                        f"{MAX_PIXELS / 1e6:.0f} MP)"
                    )
                img.load()
                return pil_to_rgb(img)
        except InputImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InputImageError(f"{name}: refused as a decompression bomb ({exc})") from None
        except PermissionError:
            raise InputImageError(f"{name}: permission denied") from None
        except UnidentifiedImageError:
            raise InputImageError(f"{name}: not an image file (or a format Pillow cannot read)") from None
        except (OSError, SyntaxError, ValueError, *_DAMAGED_FILE_ERRORS) as exc:
            raise InputImageError(f"{name}: corrupt or truncated image ({exc})") from None


def pil_to_rgb(img: Image.Image) -> np.ndarray:
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return array_to_rgb(np.asarray(img))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    return np.ascontiguousarray(np.asarray(img.convert("RGB")))


def array_to_rgb(array: np.ndarray) -> np.ndarray:
    """Any grey/RGB/RGBA array of integer or float type to RGB ``uint8``."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise InputImageError(f"array of shape {a.shape} is not an image (need HxW, HxWx3 or HxWx4)")
    if a.dtype.kind not in "biuf":  # complex, object, text, dates: no pixel values
        raise InputImageError(f"array of dtype {a.dtype} is not an image (need integer, float or bool values)")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputImageError(f"image has zero size ({a.shape[1]}x{a.shape[0]})")
    if a.dtype != np.uint8:
        a = _to_uint8(a)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255
        a = (a[:, :, :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)
    return np.ascontiguousarray(a)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.floating):
        a = np.nan_to_num(a.astype(np.float64))
        top = 1.0 if a.max(initial=0) <= 1.0 else 255.0
        return np.clip(a / top * 255, 0, 255).round().astype(np.uint8)
    # 16-bit and wider integers: scale by the type's range when the data uses it, else by the max
    top = 65535 if a.max(initial=0) > 255 else 255
    return np.clip(a.astype(np.float64) / top * 255, 0, 255).round().astype(np.uint8)


def to_order(image: np.ndarray, order: str) -> np.ndarray:
    """RGB <-> BGR conversion (the same swap both ways)."""
    if order == "RGB":
        return image
    if order == "BGR":
        return np.ascontiguousarray(image[:, :, ::-1])
    raise ValueError(f"unknown colour order {order!r}")


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bicubic resize (antialiased when shrinking) of a ``uint8`` image."""
    width, height = max(1, int(width)), max(1, int(height))
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC))


def enlarge_once(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """One bilinear resize (OpenCV) of a small ``uint8`` crop to ``height``, fitted to ``width``.

    The base of ``base="crop"`` SGENet weights. The crop keeps its aspect ratio, at the width
    PP-OCRv4 would give it (``ceil(height * w / h)``, its own resize at its 48 px height), and
    is then fitted to ``width`` (the model's output width, within two pixels of it) by
    repeating its last column or cutting the excess; a crop too long for the model is squeezed.
    At 48 px PP-OCRv4 reads as many words from it as from the raw crop (169 of 288 <= 12 px on
    dev); stretched to ``width`` it read 3 fewer. Of the enlargements measured it is the one
    PP-OCRv4 reads best (``benchmarks/results/resampling_paths.md``).
    """
    import math

    import cv2

    width, height = max(1, int(width)), max(1, int(height))
    h, w = image.shape[:2]
    own = max(1, math.ceil(height * w / max(h, 1)))
    if own > width + 2:  # a long crop clamped to the model's widest input: squeeze, cut nothing
        own = width
    out = cv2.resize(np.ascontiguousarray(image), (own, height), interpolation=cv2.INTER_LINEAR)
    if own >= width:
        return np.ascontiguousarray(out[:, :width])
    return np.concatenate([out, np.repeat(out[:, -1:], width - own, axis=1)], axis=1)


def pixels_key(image: np.ndarray) -> str:
    """A digest of an image's shape and pixels: the key of every cache of readings or
    restorations (evaluation files, benchmark memos), so equal crops are computed once."""
    data = np.ascontiguousarray(image)
    digest = hashlib.sha1(str(data.shape).encode())
    digest.update(data.tobytes())
    return digest.hexdigest()


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
