"""The ``tesseract`` engine plugin (Tesseract 5 via tesserocr), the PP-OCR-independent reader."""
from __future__ import annotations


import numpy as np
import pytest
from PIL import Image

from engine_testkit import (check_cli_on_synthetic_page, check_missing_extra,
                            check_reads_real_crops, is_clockwise_from_top_left, matched, normalise,
                            synthetic_page)
from sgenet_ocr.errors import ModelError, UsageError
from sgenet_ocr.geometry import perspective_crop
from sgenet_ocr.plugin_manager import PluginHost

pytest.importorskip("tesserocr", reason="the tesseract extra is not installed")


@pytest.fixture(scope="module")
def engine():
    eng = PluginHost().engines.create("tesseract")  # needs apt-get install tesseract-ocr-eng
    yield eng
    eng.close()


def sroie_receipt(shared_data, name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """A receipt scan and its ground-truth text LINE quads."""
    folder = shared_data / "sroie_dev"
    lines = []
    for row in (folder / "gts" / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines():
        parts = row.split(",", 8)
        if len(parts) == 9:
            lines.append(np.array(parts[:8], dtype=np.float32).reshape(4, 2))
    return np.asarray(Image.open(folder / "images" / f"{name}.jpg").convert("RGB")), lines


def centre_inside(box: np.ndarray, line: np.ndarray, tolerance: float = 3) -> bool:
    cx, cy = box.mean(axis=0)
    return (line[:, 0].min() - tolerance <= cx <= line[:, 0].max() + tolerance
            and line[:, 1].min() - tolerance <= cy <= line[:, 1].max() + tolerance)


def test_missing_package_names_the_extra(monkeypatch):
    check_missing_extra(monkeypatch, "tesserocr", "tesseract", "tesseract")


def test_missing_language_data_is_one_clear_line(tmp_path):
    with pytest.raises(ModelError) as info:
        PluginHost().engines.create("tesseract", tessdata=str(tmp_path))
    assert "eng.traineddata" in str(info.value) and "tesseract-ocr-eng" in str(info.value)
    assert "\n" not in str(info.value)


def test_rejects_gpu_and_bad_options():
    with pytest.raises(UsageError):
        PluginHost().engines.create("tesseract", device="cuda")
    with pytest.raises(UsageError):
        PluginHost().engines.create("tesseract", margin=-1)


def test_declares_rgb_and_version(engine):
    assert engine.color_order == "RGB"
    assert engine.version().startswith("tesseract 5.")


def test_layout_analysis_finds_synthetic_words(engine):
    page, words = synthetic_page()
    quads = engine.detect(page)
    assert all(is_clockwise_from_top_left(q) for q in quads)
    assert matched([q for _, q in words], quads, iou=0.7) == len(words)  # measured IoU >= 0.96
    assert len(quads) == len(words)


def test_single_line_reads_synthetic_words(engine):
    page, words = synthetic_page()
    readings = engine.recognize([perspective_crop(page, q) for _, q in words])
    right = [normalise(t) == normalise(w) for (t, _), (w, _) in zip(readings, words)]
    assert sum(right) >= 2  # measured: HELLO, Sample right; world, OCR2024 misread
    assert all(0.0 <= c <= 1.0 for _, c in readings)
    assert engine.recognize([]) == []


def test_layout_analysis_finds_words_on_a_real_receipt(engine, shared_data):
    page, lines = sroie_receipt(shared_data, "000")
    quads = engine.detect(page)
    assert len(quads) > len(lines)  # words, not lines
    in_a_line = sum(any(centre_inside(q, line) for line in lines) for q in quads)
    covered = sum(any(centre_inside(q, line) for q in quads) for line in lines)
    assert in_a_line / len(quads) >= 0.9  # measured 101 of 105
    assert covered / len(lines) >= 0.8  # measured 42 of 44


def test_reads_real_word_crops(engine, shared_data):
    check_reads_real_crops(engine, shared_data, 0.3)  # measured 0.475 on the first 40 such crops


def test_cli_end_to_end(tmp_path, capsys):
    result = check_cli_on_synthetic_page("tesseract", tmp_path, capsys)
    read = {normalise(t) for w in result["words"] for t in (w["text"], w["baseline_text"])}
    assert {"hello", "sample"} <= read
