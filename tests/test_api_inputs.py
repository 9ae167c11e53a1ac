"""Pipeline.run and load_image take every documented kind of image and refuse the rest by name."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.errors import InputImageError, UsageError
from sgenet_ocr.imaging import load_image


def png_bytes(width=30, height=20, color=(10, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview, io.BytesIO], ids=lambda w: w.__name__)
def test_bytes_memoryview_and_file_objects_load(wrap):
    rgb = load_image(wrap(png_bytes()))
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8 and tuple(rgb[0, 0]) == (10, 200, 30)


def test_an_open_file_loads(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes())
    with open(path, "rb") as fh:
        assert load_image(fh).shape == (20, 30, 3)
    with open(path, "r", encoding="latin-1") as fh, pytest.raises(UsageError, match="binary mode"):
        load_image(fh)


@pytest.mark.parametrize("bad", [None, [1, 2, 3], 3.5, {"a": 1}], ids=repr)
def test_other_values_are_usage_errors(bad):
    with pytest.raises(UsageError, match="cannot read an image from"):
        load_image(bad)


@pytest.mark.parametrize("array", [
    np.ones((4, 5, 3), np.complex64), np.full((4, 5), "x"), np.empty((4, 5), object),
], ids=["complex", "text", "object"])
def test_arrays_without_pixel_values_are_refused(array):
    with pytest.raises(InputImageError, match="is not an image"):
        load_image(array)


def test_empty_file_object_is_an_input_error():
    with pytest.raises(InputImageError, match="empty file"):
        load_image(io.BytesIO(b""))


def test_pipeline_run_takes_them_and_refuses_the_rest():
    pytest.importorskip("tesserocr")
    from sgenet_ocr import Pipeline

    with Pipeline(engine="tesseract", restorer="identity") as ocr:
        for source in (io.BytesIO(png_bytes()), memoryview(png_bytes())):
            page = ocr.run(source)
            assert (page.width, page.height) == (30, 20)
        for bad in (None, [1, 2]):
            with pytest.raises(UsageError, match="cannot read an image from"):
                ocr.run(bad)
        with pytest.raises(InputImageError):
            ocr.run(np.zeros((8, 8), np.complex128))
