"""The easyocr engine plugin and ``sgenet_ocr.hook(reader)`` with real EasyOCR weights."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("easyocr")
pytest.importorskip("easyocr_en_models")

from sgenet_ocr.errors import MissingDependencyError, UsageError  # noqa: E402
from sgenet_ocr.geometry import perspective_crop, quad_height  # noqa: E402
from sgenet_ocr.metrics import word_accuracy  # noqa: E402
from sgenet_ocr.plugin_manager import PluginHost  # noqa: E402

# Words drawn on the rendered test page: text, font size, top-left. Sizes span the
# min-height threshold so that some boxes are restored and some are not.
RENDERED_WORDS = [("HARBOUR", 40, (30, 20)), ("station", 30, (360, 30)), ("Open daily", 14, (40, 120)),
                  ("Platform", 18, (220, 118)), ("EXIT", 12, (420, 124)), ("Gateway", 22, (60, 262))]
ROTATED_WORD = ("CENTRAL", 32, 20, (300, 150))  # text, size, degrees, paste position

BLANK_RESTORER_PLUGIN = '''
"""Test plugin: a restorer that erases the text, so a restored crop visibly reads differently."""
import numpy as np
from sgenet_ocr.plugin_manager import hookimpl
from sgenet_ocr.restorers import Restorer


class BlankRestorer(Restorer):
    name = "blank"

    def restore(self, crops):
        return [np.full((2 * c.shape[0], 2 * c.shape[1], 3), int(c.mean()), np.uint8) for c in crops]


@hookimpl
def register_restorers(register):
    register("blank", lambda device="cpu", **_: BlankRestorer())
'''


def _font(size: int):
    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(path), size)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A 640x300 page with horizontal words of several sizes and one rotated word.

    Returns ``(path, rgb array, word boxes as (text, (x0, y0, x1, y1)))``; the rotated word's
    box is its pasted tile's bounding box.
    """
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (640, 300), (235, 228, 210))
    draw = ImageDraw.Draw(page)
    boxes = []
    for text, size, (x, y) in RENDERED_WORDS:
        draw.text((x, y), text, font=_font(size), fill=(20, 30, 60))
        boxes.append((text, draw.textbbox((x, y), text, font=_font(size))))
    text, size, angle, (x, y) = ROTATED_WORD
    tile = Image.new("L", (260, 60), 0)
    ImageDraw.Draw(tile).text((10, 8), text, font=_font(size), fill=255)
    mask = tile.rotate(angle, expand=True, resample=Image.BICUBIC)
    page.paste(Image.new("RGB", mask.size, (120, 20, 20)), (x, y), mask)
    left, top, right, bottom = mask.getbbox()
    boxes.append((text, (x + left, y + top, x + right, y + bottom)))
    path = tmp_path_factory.mktemp("easyocr") / "rendered.png"
    page.save(path)
    return path, np.asarray(page), boxes


@pytest.fixture(scope="module")
def engine():
    """One engine (and so one shared Reader) for the whole module."""
    return PluginHost().engines.create("easyocr")


@pytest.fixture(scope="module")
def rendered_quads(engine, rendered):
    """The engine's detections on the rendered page (detection is the slow part)."""
    return engine.detect(rendered[1])


@pytest.fixture(scope="module")
def user_reader():
    """A user's own Reader, separate from the engine's.

    ``quantize=False``: easyocr's default int8 LSTM takes ~1.5 s per crop with this torch on
    CPU; the hook does not depend on it.
    """
    import easyocr
    import easyocr_en_models

    return easyocr.Reader(["en"], gpu=False, download_enabled=False, quantize=False,
                          model_storage_directory=easyocr_en_models.model_dir(), verbose=False)


@pytest.fixture(scope="module")
def never_hooked(user_reader, rendered):
    """``readtext`` of the rendered page before any hooking."""
    return user_reader.readtext(str(rendered[0]))


@pytest.fixture(scope="module")
def blank_plugin(tmp_path_factory):
    path = tmp_path_factory.mktemp("plugins") / "blank_restorer.py"
    path.write_text(BLANK_RESTORER_PLUGIN)
    return str(path)


@pytest.fixture(scope="module")
def ic15_crops(shared_data):
    """The first 30 ICDAR 2015 test word crops (RGB) and their labels."""
    from PIL import Image

    folder = shared_data / "ic15_words_dev"
    rows = [line.rstrip("\n").split("\t") for line in (folder / "labels.tsv").read_text("utf8").splitlines()]
    rows = rows[:30]
    crops = [np.asarray(Image.open(folder / "images" / name).convert("RGB")) for name, _ in rows]
    return crops, [label for _, label in rows]


@pytest.fixture(scope="module")
def ic15_read(engine, ic15_crops):
    """The engine's batched reading of the 30 crops."""
    return engine.recognize(ic15_crops[0])


def _overlap(quad: np.ndarray, box) -> float:
    """Fraction of the axis-aligned ``box`` covered by the quad's bounding box."""
    x0, y0, x1, y1 = box
    qx0, qy0 = quad.min(axis=0)
    qx1, qy1 = quad.max(axis=0)
    w = max(0.0, min(x1, qx1) - max(x0, qx0))
    h = max(0.0, min(y1, qy1) - max(y0, qy0))
    return w * h / ((x1 - x0) * (y1 - y0))


def _is_clockwise_from_top_left(quad: np.ndarray) -> bool:
    x, y = quad[:, 0].astype(float), quad[:, 1].astype(float)
    signed_area = (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2
    return signed_area > 0 and int(np.argmin(quad.sum(axis=1))) == 0  # y points down


def _hook(reader, restorer="bicubic", **kwargs):
    import sgenet_ocr

    return sgenet_ocr.hook(reader, restorer=restorer, **kwargs)


# Engine ------------------------------------------------------------------------------------

def test_detect_finds_each_rendered_word(rendered, rendered_quads):
    _, rgb, boxes = rendered
    quads = rendered_quads
    assert all(q.shape == (4, 2) and q.dtype == np.float32 for q in quads)
    assert all(_is_clockwise_from_top_left(q) for q in quads)
    for text, box in boxes:
        best = max((_overlap(q, box) for q in quads), default=0.0)
        assert best > 0.8, f"no detected box covers {text!r} drawn at {box}"
    assert len(quads) <= len(boxes) + 1  # no spurious boxes on the plain background


def test_recognize_rendered_words(engine, rendered, rendered_quads):
    _, rgb, boxes = rendered
    read = engine.recognize([perspective_crop(rgb, q) for q in rendered_quads])
    texts = {text for text, _ in read}
    assert {text for text, _ in boxes} <= texts
    assert all(0.0 <= confidence <= 1.0 for _, confidence in read)


@pytest.mark.slow
@pytest.mark.needs_data
def test_detect_real_scene(engine, shared_data):
    from PIL import Image

    name = "img_108"
    rgb = np.asarray(Image.open(shared_data / "ic15_e2e_dev" / "images" / f"{name}.jpg").convert("RGB"))
    quads = engine.detect(rgb)
    assert all(q.shape == (4, 2) and q.dtype == np.float32 for q in quads)
    words = []
    for line in (shared_data / "ic15_e2e_dev" / "gts" / f"gt_{name}.txt").read_text("utf-8-sig").splitlines():
        parts = line.split(",", 8)
        if parts[8] != "###":
            points = np.array(parts[:8], dtype=float).reshape(4, 2)
            words.append((*points.min(axis=0), *points.max(axis=0)))
    found = sum(max(_overlap(q, w) for q in quads) > 0.5 for w in words)
    # measured: every one of the 13 readable words lies under a detected box
    assert found >= 0.8 * len(words), f"{found}/{len(words)} ground-truth words detected"


@pytest.mark.needs_data
def test_recognize_real_crops_accuracy(ic15_crops, ic15_read):
    accuracy, counted = word_accuracy([text for text, _ in ic15_read], ic15_crops[1])
    assert counted == 30
    # measured 0.467 on these 30 (0.453 over the first 300); ICDAR 2015 words are hard
    assert accuracy >= 0.35


@pytest.mark.slow
@pytest.mark.needs_data
def test_batched_recognition_matches_easyocr_one_crop_at_a_time(engine, ic15_crops, ic15_read):
    import cv2

    crops, _ = ic15_crops
    assert len({c.shape[:2] for c in crops}) > 10  # the batch really mixes sizes
    batched = ic15_read
    one_by_one = []
    for crop in crops:
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        ((_, text, confidence),) = engine.reader.recognize(grey, [[0, grey.shape[1], 0, grey.shape[0]]], [])
        one_by_one.append((text, float(confidence)))
    assert [t for t, _ in batched] == [t for t, _ in one_by_one]
    np.testing.assert_allclose([c for _, c in batched], [c for _, c in one_by_one], atol=1e-4)
    assert engine.recognize(crops[3:4]) == batched[3:4]


def test_recognize_odd_inputs(engine):
    empty = np.zeros((0, 10, 3), np.uint8)
    grey = np.full((20, 60), 200, np.uint8)
    read = engine.recognize([empty, grey])
    assert read[0] == ("", 0.0) and len(read) == 2
    assert engine.recognize([]) == []


def test_unknown_engine_option_is_a_usage_error():
    with pytest.raises(UsageError, match="text_treshold"):
        PluginHost().engines.create("easyocr", text_treshold=0.5)


def test_missing_easyocr_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "easyocr", None)  # makes `import easyocr` fail
    for name in [m for m in sys.modules if m.startswith("sgenet_ocr_easyocr")]:
        monkeypatch.delitem(sys.modules, name)
    plugin = importlib.import_module("sgenet_ocr_easyocr")  # the plugin itself still imports
    with pytest.raises(MissingDependencyError) as error:
        plugin.create_engine()
    assert error.value.extra == "easyocr" and "sgenet-ocr[easyocr]" in str(error.value)
    with pytest.raises(MissingDependencyError):
        PluginHost().engines.create("easyocr")


# hook(reader) ------------------------------------------------------------------------------

def _boxes(results):
    return [np.asarray(box, dtype=float).tolist() for box, *_ in results]


@pytest.mark.slow
def test_hook_restores_small_crops_inside_readtext(user_reader, rendered, never_hooked, blank_plugin):
    import sgenet_ocr

    heights = [quad_height(np.asarray(box, dtype=np.float32)) for box, *_ in never_hooked]
    min_height = 30.0
    expect_restored = [h < min_height for h in heights]
    assert any(expect_restored) and not all(expect_restored)
    _hook(user_reader, restorer="blank", min_height=min_height, plugins=[blank_plugin])
    try:
        hooked = user_reader.readtext(str(rendered[0]))
        stats = user_reader._sgenet_ocr_stage.stats
    finally:
        sgenet_ocr.unhook(user_reader)
    assert stats.crops_restored == sum(expect_restored)
    assert _boxes(hooked) == _boxes(never_hooked)  # same boxes, same order
    for restored, (_, text, confidence), (_, before, _) in zip(expect_restored, hooked, never_hooked):
        assert isinstance(text, str) and 0.0 <= confidence <= 1.0
        assert (text != before) if restored else (text == before)


@pytest.fixture(scope="module")
def user_boxes(user_reader, rendered):
    """What ``readtext`` hands to ``recognize``: the grey page and easyocr's two box lists."""
    import cv2

    horizontal, free = user_reader.detect(rendered[1])
    return cv2.cvtColor(rendered[1], cv2.COLOR_RGB2GRAY), horizontal[0], free[0]


# rotation_info switches easyocr from one box at a time (horizontal boxes, then free ones) to
# one batch sorted by y, which puts the rotated word before "Gateway" below it.
OUTPUT_OPTIONS = {"standard": {}, "json": {"output_format": "json"}, "paragraph": {"paragraph": True},
                  "rotations": {"rotation_info": [180]}}


def _layout(name: str, results) -> list:
    """Everything about a result list except the recognised text and confidences."""
    if name == "json":
        return [(list(item), item["boxes"]) for item in map(json.loads, results)]
    return [(len(item), np.asarray(item[0], dtype=float).tolist()) for item in results]


@pytest.mark.slow
def test_hooked_reader_keeps_every_output_format(user_reader, user_boxes):
    import sgenet_ocr

    grey, horizontal, free = user_boxes
    assert horizontal and free, "the rendered page should fill both of easyocr's box lists"
    horizontal = [horizontal[0], horizontal[-1]]  # HARBOUR and Gateway; fewer crops keep it quick
    plain = {name: user_reader.recognize(grey, horizontal, free, **kw) for name, kw in OUTPUT_OPTIONS.items()}
    _hook(user_reader, restorer="bicubic", min_height=1000)  # every crop is restored
    try:
        hooked = {name: user_reader.recognize(grey, horizontal, free, **kw) for name, kw in OUTPUT_OPTIONS.items()}
        words = user_reader.recognize(grey, horizontal, free, detail=0)
        stats = user_reader._sgenet_ocr_stage.stats
    finally:
        sgenet_ocr.unhook(user_reader)
    assert stats.crops_restored == stats.crops_seen == (len(OUTPUT_OPTIONS) + 1) * (len(horizontal) + len(free))
    for name in OUTPUT_OPTIONS:
        assert _layout(name, hooked[name]) == _layout(name, plain[name]), name
    # bicubic x2 of clean rendered text still reads the large words, rotated one included
    assert [text for _, text, _ in hooked["standard"]] == ["HARBOUR", "Gateway", "CENTRAL"]
    assert _layout("rotations", plain["rotations"]) != _layout("standard", plain["standard"])  # order differs
    assert words == [text for _, text, _ in hooked["standard"]]


@pytest.mark.slow
def test_unhook_gives_back_the_untouched_reader(user_reader, rendered, never_hooked):
    import easyocr
    import sgenet_ocr

    _hook(user_reader, min_height=1000)
    assert "recognize" in vars(user_reader)
    sgenet_ocr.unhook(user_reader)
    assert "recognize" not in vars(user_reader)
    assert user_reader.recognize.__func__ is easyocr.Reader.recognize
    assert not hasattr(user_reader, "_sgenet_ocr_unhook")
    assert user_reader.readtext(str(rendered[0])) == never_hooked
    sgenet_ocr.unhook(user_reader)  # unhooking twice is a no-op


def test_hooking_twice_keeps_one_layer(user_reader):
    import easyocr
    import sgenet_ocr

    try:
        _hook(user_reader, min_height=10)
        first = user_reader.recognize
        _hook(user_reader, min_height=1000)
        second = user_reader.recognize
        assert second is not first
        assert second.__sgenet_ocr_original__.__func__ is easyocr.Reader.recognize
        assert user_reader._sgenet_ocr_stage.options.min_height == 1000
        grey = np.full((40, 200), 255, np.uint8)
        grey[10:30, 20:180] = 0
        user_reader.recognize(grey, [[0, 200, 0, 40]], [])
        assert user_reader._sgenet_ocr_stage.stats.crops_seen == 1
    finally:
        sgenet_ocr.unhook(user_reader)
    assert "recognize" not in vars(user_reader)


def test_hook_only_patches_the_instance(user_reader):
    import easyocr
    import sgenet_ocr

    class_method = easyocr.Reader.recognize
    try:
        _hook(user_reader)
        assert easyocr.Reader.recognize is class_method
    finally:
        sgenet_ocr.unhook(user_reader)


def test_hook_unknown_object_is_a_usage_error():
    import sgenet_ocr

    with pytest.raises(UsageError, match="no plugin knows how to attach"):
        sgenet_ocr.hook(object())
