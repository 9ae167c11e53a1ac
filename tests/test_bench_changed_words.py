"""benchmarks/changed_words.py on real dev words with Tesseract: fixed/broken agree with the readings."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import changed_words  # noqa: E402
from sgenet_ocr.metrics import word_correct  # noqa: E402

@pytest.mark.needs_data
@pytest.mark.slow
def test_fixed_and_broken_words_match_the_readings(shared_data, tmp_path):
    out = tmp_path / "changed.json"
    code = changed_words.main(["--data", str(shared_data / "ic15_words_dev"), "--engines", "tesseract",
                               "--limit", "150", "--max-height", "12", "--json", str(out),
                               "--pictures", str(tmp_path / "pics")])
    assert code == 0
    (engine,) = json.loads(out.read_text())["engines"]
    assert 0 < engine["words"] < 150  # only the words <= 12 px of the first 150
    kinds = [w["kind"] for w in engine["changed"]]
    assert kinds.count("fixed") == engine["fixed"] and kinds.count("broken") == engine["broken"]
    assert engine["fixed"] > 0  # SGENet fixes some small words for Tesseract (MODEL_CARD: +10 points <= 12 px)
    for w in engine["changed"]:
        assert w["lr_height"] <= 12
        assert word_correct(w["restored"], w["label"]) == (w["kind"] == "fixed")
        assert word_correct(w["original"], w["label"]) == (w["kind"] == "broken")
    picture = Image.open(tmp_path / "pics" / "tesseract_changed.png")
    rows = min(engine["fixed"], changed_words.SHOWN) + min(engine["broken"], changed_words.SHOWN)
    assert picture.height == 22 + (changed_words.ROW_HEIGHT + 6) * rows  # one row per word shown


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert changed_words.main(["--data", str(tmp_path), "--engines", "tesseract", "--max-height", "0",
                               "--json", str(tmp_path / "x.json")]) == 2
    assert "max-height" in capsys.readouterr().err
