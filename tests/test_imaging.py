"""Loading every odd kind of input: a correct RGB array or one clear InputImageError."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.errors import InputImageError
from sgenet_ocr.imaging import load_image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size, with no pixel data: a decompression bomb's shape."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture
def photo():
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (20, 40, 3), dtype=np.uint8)


def save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def test_rgb_png_round_trip(tmp_path, photo):
    out = load_image(save(Image.fromarray(photo), tmp_path / "a.png"))
    assert out.dtype == np.uint8 and np.array_equal(out, photo)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    grey = (np.arange(40 * 20).reshape(20, 40) * 80).astype(np.uint16)
    out = load_image(save(Image.fromarray(grey), tmp_path / "g16.png"))
    assert out.shape == (20, 40, 3)
    assert out[-1, -1, 0] == round(grey[-1, -1] / 65535 * 255)


def test_palette_rgba_cmyk_la(tmp_path, photo):
    for mode in ("P", "RGBA", "CMYK", "LA", "L", "1"):
        img = Image.fromarray(photo).convert(mode)
        ext = "jpg" if mode == "CMYK" else "png"
        out = load_image(save(img, tmp_path / f"m_{mode}.{ext}"))
        assert out.shape == (20, 40, 3) and out.dtype == np.uint8, mode


def test_transparent_pixels_become_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    out = load_image(save(Image.fromarray(rgba), tmp_path / "t.png"))
    assert (out == 255).all()


def test_exif_rotation_is_applied(tmp_path, photo):
    img = Image.fromarray(photo)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    out = load_image(save(img, tmp_path / "r.jpg", exif=exif))
    assert out.shape == (40, 20, 3)


@pytest.mark.parametrize("content,reason", [
    (b"", "empty file"),
    (b"this is a text file, not an image", "not an image"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not an image|corrupt"),
])
def test_bad_files(tmp_path, content, reason):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(InputImageError, match=reason):
        load_image(path)


def test_truncated_jpeg(tmp_path, photo):
    buf = io.BytesIO()
    Image.fromarray(np.repeat(np.repeat(photo, 10, 0), 10, 1)).save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InputImageError, match="corrupt or truncated"):
        load_image(path)


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(100_000, 100_000))
    with pytest.raises(InputImageError, match="too large|decompression bomb"):
        load_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputImageError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(InputImageError, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("array", [np.zeros((0, 10, 3), np.uint8), np.zeros((5, 5, 7), np.uint8),
                                   np.zeros((5,), np.uint8)])
def test_bad_arrays(array):
    with pytest.raises(InputImageError):
        load_image(array)


def test_float_and_grey_arrays():
    assert load_image(np.ones((3, 4), np.float32)).max() == 255
    assert load_image(np.zeros((3, 4, 1), np.uint8)).shape == (3, 4, 3)
