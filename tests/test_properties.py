"""Property-based tests (hypothesis): hostile quads, image bytes and presets never crash; every
outcome is a correct result or a documented error class."""
from __future__ import annotations

import io

import numpy as np
import pytest
import yaml
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sgenet_ocr.errors import InputImageError, UsageError  # noqa: E402
from sgenet_ocr.geometry import (MAX_CROP_PIXELS, MAX_CROP_SIDE, as_quad, is_degenerate, order_clockwise,  # noqa: E402
                                 perspective_crop)
from sgenet_ocr.imaging import load_image  # noqa: E402
from sgenet_ocr.options import PRESET_KEYS, StageOptions, resolve_options  # noqa: E402

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGE = np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)

coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(-1e6, 1e6),
    st.floats(-10, 100),
    st.sampled_from([0.0, 1.0, -1.0, 1e6, -1e6, 1e30, float("nan"), float("inf")]),
)


@FAST
@given(st.lists(coordinate, min_size=8, max_size=8))
def test_any_quad_crops_or_is_refused_as_a_value_error(numbers):
    from unittest import mock

    import sgenet_ocr.geometry as geometry

    # Smaller caps keep the huge crops quick here; the real ones are tested below.
    with mock.patch.object(geometry, "MAX_CROP_PIXELS", 40_000), mock.patch.object(geometry, "MAX_CROP_SIDE", 1000):
        _quad_property(numbers, 40_000, 1000)


def _quad_property(numbers, max_pixels, max_side):
    try:
        quad = order_clockwise(numbers)
    except ValueError:
        with np.errstate(over="ignore"):
            assert not np.all(np.isfinite(np.asarray(numbers, np.float64).astype(np.float32)))
        return
    assert quad.shape == (4, 2) and np.all(np.isfinite(quad))
    degenerate = is_degenerate(quad, PAGE.shape)
    assert degenerate in (True, False)
    crop = perspective_crop(PAGE, quad)  # degenerate ones too: the pipeline skips them, but no crash
    assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
    assert crop.shape[0] * crop.shape[1] <= max_pixels * 1.01
    assert max(crop.shape[:2]) <= max_side + 1


def test_a_million_pixel_box_is_capped():
    quad = as_quad([[-1e6, -1e6], [1e6, -1e6], [1e6, 1e6], [-1e6, 1e6]])
    crop = perspective_crop(PAGE, quad)
    assert crop.shape[0] * crop.shape[1] <= MAX_CROP_PIXELS * 1.01 and crop.shape[0] == crop.shape[1]
    assert max(crop.shape[:2]) <= MAX_CROP_SIDE


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(PAGE).save(buf, format=fmt)
    return buf.getvalue()


SAMPLES = {fmt: _encoded(fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")}


def _check_loaded(data: bytes) -> None:
    try:
        rgb = load_image(data)
    except InputImageError as exc:
        assert str(exc).startswith("<bytes>: ") and "\n" not in str(exc)
        return
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.shape[0] * rgb.shape[1] > 0


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_load_or_are_input_errors(data):
    _check_loaded(data)


@FAST
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_mutated_images_load_or_are_input_errors(fmt, data):
    raw = bytearray(SAMPLES[fmt])
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    _check_loaded(bytes(raw))


def test_a_tiff_with_a_damaged_offset_tag_is_an_input_error():
    """Found by the test above: Pillow raised TypeError from ``load()`` on this file."""
    raw = bytearray(SAMPLES["TIFF"])
    raw[72] = 2  # the strip-offsets entry's type becomes ASCII
    with pytest.raises(InputImageError, match="^<bytes>: corrupt or truncated image"):
        load_image(bytes(raw))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
preset_values = st.one_of(json_values, st.sampled_from(["easyocr", "bicubic", "cpu", "cuda:x", "restored", 12, 0.5]))


@FAST
@given(st.dictionaries(st.sampled_from(sorted(PRESET_KEYS) + ["engines", "min-height"]), preset_values, max_size=5))
@example({"min_height": "20"})
@example({"min_height": True, "engine": "easyocr"})
@example({"engine": ["x"]})
@example({"engine_options": [1], "restorer_options": "x"})
def test_random_presets_resolve_or_are_usage_errors(tmp_path_factory, mapping):
    from sgenet_ocr.presets import load_preset

    path = tmp_path_factory.mktemp("presets") / "p.yaml"
    path.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    try:
        options = resolve_options(preset=load_preset(str(path)))
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(options, StageOptions)
    assert isinstance(options.engine, str) and isinstance(options.restorer, (str, type(None)))
    assert isinstance(options.min_height, (int, float)) and not isinstance(options.min_height, bool)
    for name in ("engine_options", "restorer_options"):
        assert all(isinstance(k, str) for k in getattr(options, name))


ENGINE = '''
import numpy as np
from sgenet_ocr import hookimpl
from sgenet_ocr.engine import OcrEngine


class Engine(OcrEngine):
    name = "nan"
    color_order = "RGB"

    def __init__(self, quads="nan"):
        self.quads = quads

    def detect(self, image):
        if self.quads == "nan":
            return [np.full((4, 2), np.nan), np.array([[0, 0], [40, 0], [40, 20], [0, 20]], float),
                    np.full((4, 2), 1e39)]
        return [np.zeros(3)]

    def recognize(self, crops):
        return [("x", 1.0) for _ in crops]


@hookimpl
def register_engines(register):
    register("nan", Engine)
'''


def test_engine_quads_that_are_not_finite_are_skipped_and_bad_shapes_blame_the_engine(tmp_path):
    from sgenet_ocr import Pipeline
    from sgenet_ocr.errors import PluginError

    plugin = tmp_path / "nan_engine.py"
    plugin.write_text(ENGINE)
    with Pipeline(engine="nan", restorer="identity", plugins=[str(plugin)]) as ocr:
        page = ocr.run(PAGE)
    assert page.skipped_boxes == 2 and len(page.words) == 1
    with Pipeline(engine="nan", restorer="identity", plugins=[str(plugin)], engine_options={"quads": "bad"}) as ocr:
        with pytest.raises(PluginError, match=r"nan_engine.py': engine 'nan' returned a box that is not 4 points "
                                              r"\(a quad needs 8 finite numbers, got 3\)"):
            ocr.run(PAGE)
