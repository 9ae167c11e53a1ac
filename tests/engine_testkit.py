"""Helpers shared by the engine plugin tests: synthetic pages, real crops, box matching."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Words rendered on the synthetic page, with their text heights in pixels.
SYNTHETIC_WORDS = (("HELLO", 56), ("world", 22), ("OCR2024", 52), ("Sample", 24))


def normalise(text: str) -> str:
    """The TextZoom protocol: lower case, keep only [0-9a-z]."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def dejavu_font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans Bold from matplotlib's bundled fonts (always present with matplotlib)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(path), size)


def synthetic_page() -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """A white 900x520 RGB page with :data:`SYNTHETIC_WORDS` in black, one per line.

    Returns the page and ``(text, quad)`` per word, quads clockwise from top-left around the ink.
    """
    page = Image.new("RGB", (900, 520), "white")
    draw = ImageDraw.Draw(page)
    words, y = [], 40
    for i, (text, size) in enumerate(SYNTHETIC_WORDS):
        x = 60 + 120 * (i % 2)
        draw.text((x, y), text, font=dejavu_font(size), fill="black")
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=dejavu_font(size))
        words.append((text, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)))
        y += size + 60
    return np.asarray(page), words


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of the axis-aligned bounding boxes of two quads."""
    ax0, ay0, ax1, ay1 = *a.min(0), *a.max(0)
    bx0, by0, bx1, by1 = *b.min(0), *b.max(0)
    iw, ih = max(0.0, min(ax1, bx1) - max(ax0, bx0)), max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float(inter / union) if union > 0 else 0.0


def matched(truth: list[np.ndarray], found: list[np.ndarray], iou: float = 0.5) -> int:
    """How many true boxes have a found box with IoU >= ``iou``."""
    return sum(any(box_iou(t, f) >= iou for f in found) for t in truth)


def is_clockwise_from_top_left(quad: np.ndarray) -> bool:
    """Shape (4, 2) float32, clockwise (y down), first corner the top-left-most."""
    q = np.asarray(quad, dtype=np.float64)
    signed_area = np.sum(q[:, 0] * np.roll(q[:, 1], -1) - np.roll(q[:, 0], -1) * q[:, 1]) / 2
    return (quad.shape == (4, 2) and quad.dtype == np.float32 and signed_area > 0
            and int(np.argmin(q.sum(axis=1))) == 0)


def ic15_scene(shared_data: Path, n: int) -> tuple[Path, list[tuple[str, np.ndarray]]]:
    """Scene image ``img_n`` and its readable ground-truth words ``(text, quad)``."""
    gt = shared_data / "ic15_e2e_dev" / "gts" / f"gt_img_{n}.txt"
    words = []
    for line in gt.read_text(encoding="utf-8-sig").splitlines():
        parts = line.strip().split(",", 8)
        if len(parts) == 9 and parts[8] != "###":
            words.append((parts[8], np.array(parts[:8], dtype=np.float32).reshape(4, 2)))
    return shared_data / "ic15_e2e_dev" / "images" / f"img_{n}.jpg", words


def clear_word_crops(shared_data: Path, count: int) -> list[tuple[np.ndarray, str]]:
    """The first ``count`` clear ICDAR 2015 word crops: >= 32 px tall, horizontal, a plain
    alphanumeric label of 3+ characters. RGB arrays with their labels."""
    folder = shared_data / "ic15_words_dev"
    chosen = []
    for line in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        name, label = line.split("\t", 1)
        if len(label) < 3 or normalise(label) != label.lower():
            continue
        crop = np.asarray(Image.open(folder / "images" / name).convert("RGB"))
        if crop.shape[0] >= 32 and crop.shape[1] >= 1.2 * crop.shape[0]:
            chosen.append((crop, label))
        if len(chosen) == count:
            break
    return chosen


def dev_word_crops(shared_data: Path, count: int, step: int = 37) -> list[np.ndarray]:
    """``count`` ICDAR 2015 dev word crops, every ``step``-th from the first, as RGB arrays."""
    folder = shared_data / "ic15_words_dev" / "images"
    return [np.asarray(Image.open(folder / f"word_{i}.png").convert("RGB")) for i in range(1, 1 + count * step, step)]


def shrunk_and_enlarged(rgb: np.ndarray, small_height: int, height: int) -> np.ndarray:
    """A real word shrunk (area) to ``small_height`` px, then enlarged (bilinear) to ``height``:
    a small word as an engine gets it from a restorer."""
    import cv2

    small = cv2.resize(rgb, (max(1, round(rgb.shape[1] * small_height / rgb.shape[0])), small_height),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (max(1, round(small.shape[1] * height / small_height)), height),
                      interpolation=cv2.INTER_LINEAR)


def in_order(crops: list[np.ndarray], order: str) -> list[np.ndarray]:
    """RGB crops converted to an engine's colour order."""
    return [np.ascontiguousarray(c[:, :, ::-1]) if order == "BGR" else c for c in crops]


def blanking_restorer_plugin(tmp_path: Path) -> str:
    """A plugin file registering restorer ``blank``: every restored crop becomes plain white
    (x2). Used to prove that a hooked engine really reads the stage's output."""
    path = tmp_path / "blank_restorer.py"
    path.write_text(textwrap.dedent("""
        import numpy as np
        from sgenet_ocr import hookimpl
        from sgenet_ocr.restorers import Restorer

        class Blank(Restorer):
            name, scale = "blank", 2
            def restore(self, crops):
                return [np.full((c.shape[0] * 2, c.shape[1] * 2, 3), 255, np.uint8) for c in crops]

        @hookimpl
        def register_restorers(register):
            register("blank", lambda device="cpu", **_: Blank())
    """))
    return str(path)


# Checks shared by the engine test modules ---------------------------------------------------

def check_detects_synthetic_words(engine, iou: float = 0.5) -> None:
    """Every synthetic word found once, quads (4, 2) float32 clockwise from the top-left."""
    page, words = synthetic_page()
    quads = engine.detect(in_order([page], engine.color_order)[0])
    assert len(quads) == len(words)
    assert all(is_clockwise_from_top_left(q) for q in quads)
    assert matched([q for _, q in words], quads, iou=iou) == len(words)


def check_detects_scene_words(engine, shared_data: Path) -> None:
    """ICDAR 2015 ``img_5`` (5 readable words on road signs): PP-OCR detectors found all 5."""
    path, truth = ic15_scene(shared_data, 5)
    page = np.asarray(Image.open(path).convert("RGB"))
    quads = engine.detect(in_order([page], engine.color_order)[0])
    assert all(is_clockwise_from_top_left(q) for q in quads)
    assert matched([q for _, q in truth], quads, iou=0.5) >= 4
    assert len(quads) <= 3 * len(truth)


def check_reads_real_crops(engine, shared_data: Path, minimum: float) -> None:
    """At least ``minimum`` of 24 clear ICDAR 2015 word crops read exactly (normalised)."""
    samples = clear_word_crops(shared_data, 24)
    readings = engine.recognize(in_order([c for c, _ in samples], engine.color_order))
    assert len(readings) == len(samples)
    right = sum(normalise(t) == normalise(label) for (t, _), (_, label) in zip(readings, samples))
    assert right / len(samples) >= minimum, f"{right} of {len(samples)} read right"


def run_cli(args: list, out: Path, capsys) -> dict:
    """``python -m sgenet_ocr.pipeline ARGS --compare --json OUT -q``; the one page's JSON."""
    import json

    from sgenet_ocr.pipeline.__main__ import main

    code = main([str(a) for a in args] + ["--compare", "--json", str(out), "-q"])
    assert code == 0, capsys.readouterr().err
    (page,) = json.loads(out.read_text())["pages"]
    assert all("baseline_text" in w for w in page["words"])
    return page


def check_cli_on_synthetic_page(engine_name: str, tmp_path: Path, capsys) -> dict:
    """The CLI end to end on the synthetic page: the two small words, only, are restored
    (``--trust 2``: however confidently the engine reads them)."""
    page, words = synthetic_page()
    image = tmp_path / "page.png"
    Image.fromarray(page).save(image)
    result = run_cli([image, "--engine", engine_name, "--restorer", "bicubic", "--min-height", "35", "--trust", "2"],
                     tmp_path / "r.json", capsys)
    assert result["engine"] == engine_name and len(result["words"]) == len(words)
    # Every engine's boxes for "world" and "Sample" are under 35 px tall, the others' over.
    assert sorted(w["restored"] for w in result["words"]) == [False, False, True, True]
    return result


def check_cli_on_scene(engine_name: str, tmp_path: Path, shared_data: Path, capsys) -> None:
    path, truth = ic15_scene(shared_data, 5)
    result = run_cli([path, "--engine", engine_name, "--restorer", "bicubic"], tmp_path / "r.json", capsys)
    read = {normalise(w["text"]) for w in result["words"]}
    assert len(read & {normalise(t) for t, _ in truth}) >= 3
    assert result["timings"]["detect"] > 0 and result["timings"]["recognize"] > 0


def check_cli_on_repo_example(engine_name: str, tmp_path: Path, repo_root: Path, capsys) -> None:
    result = run_cli([repo_root / "examples" / "street_sign.jpg", "--engine", engine_name,
                      "--restorer", "bicubic", "--trust", "2"], tmp_path / "r.json", capsys)
    read = " ".join(normalise(w["text"]) for w in result["words"])
    assert "dailyspecial" in read and "tel5550142" in read  # one large line, one 9-15 px line
    # the small print is restored (--trust 2: even what the engine reads confidently)
    assert sum(w["restored"] for w in result["words"]) >= 5


def check_missing_extra(monkeypatch, module: str, engine_name: str, extra: str) -> None:
    """With ``module`` unimportable, creating the engine fails with one line naming the extra."""
    import sys

    import pytest

    from sgenet_ocr.errors import MissingDependencyError
    from sgenet_ocr.plugin_manager import PluginHost

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as info:
        PluginHost().engines.create(engine_name)
    assert info.value.extra == extra and info.value.exit_code == 4
    assert f"sgenet-ocr[{extra}]" in str(info.value) and "\n" not in str(info.value)


def check_reads_vertical_text(engine) -> None:
    """A word turned a quarter clockwise (reading top to bottom) is turned back and read."""
    from sgenet_ocr.geometry import perspective_crop

    page, words = synthetic_page()
    text, quad = words[0]
    upright = perspective_crop(page, quad)
    turned = np.ascontiguousarray(np.rot90(upright, -1))
    ((reading, _),) = engine.recognize(in_order([turned], engine.color_order))
    assert normalise(reading) == normalise(text)
