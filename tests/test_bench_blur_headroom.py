"""benchmarks/blur_headroom.py: the deconvolutions undo a known blur, and the report counts real readings."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import blur_headroom  # noqa: E402


def _bars_and_blurred(sigma: float):
    import cv2

    sharp = np.full((24, 48, 3), 230, np.uint8)
    sharp[:, 8:11] = sharp[:, 20:22] = sharp[:, 30:35] = 30  # strokes 2-5 px wide
    return sharp, cv2.GaussianBlur(sharp, (0, 0), sigma)


@pytest.mark.parametrize("undo", [lambda x: blur_headroom.richardson_lucy(x, 0.8, 30),
                                  lambda x: blur_headroom.unsharp(x, 0.8, 1.0)])
def test_deconvolution_brings_a_blurred_image_closer_to_the_sharp_one(undo):
    sharp, blurred = _bars_and_blurred(0.8)
    error = lambda img: np.abs(img.astype(float) - sharp).mean()  # noqa: E731
    assert error(undo(blurred)) < 0.8 * error(blurred)


@pytest.mark.needs_data
def test_report_counts_the_engines_readings(shared_data, tmp_path):
    out = tmp_path / "headroom.json"
    code = blur_headroom.main(["--data", str(shared_data / "ic15_words_dev"), "--engines", "tesseract",
                               "--limit", "60", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    (engine,) = report["engines"]
    rows = {r["variant"]: r for r in engine["variants"]}
    assert set(rows) == set(blur_headroom.variants(0.8))
    assert all(r["accuracy"] == round(r["correct"] / engine["words"], 4) for r in rows.values())
    assert rows["hr"]["correct"] > rows["as is"]["correct"]  # the HR crop is legible, the blurred one not


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert blur_headroom.main(["--data", str(tmp_path), "--sigma", "0", "--json", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "--sigma" in err and err.count("\n") == 1
