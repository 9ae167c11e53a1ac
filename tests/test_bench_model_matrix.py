"""benchmarks/model_matrix.py on real dev words: the columns each recogniser gets, and the summary's arithmetic."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import model_matrix  # noqa: E402


@pytest.mark.needs_data
@pytest.mark.slow
def test_matrix_reads_matched_weights_where_the_engine_has_them(shared_data, tmp_path):
    out, md = tmp_path / "matrix.json", tmp_path / "matrix.md"
    code = model_matrix.main(["--data", str(shared_data / "ic15_words_dev"), "--protocols", "third",
                              "--recognizers", "ppocr,tesseract", "--matched", "tesseract=sgenet-easyocr",
                              "--limit", "30", "--json", str(out), "--markdown", str(md)])
    assert code == 0
    ppocr, tesseract = json.loads(out.read_text())["results"]
    assert set(ppocr["table"]) - {"weights", "paired"} == set(model_matrix.COLUMNS)
    # PP-OCR's engine (RapidOCR) picks sgenet-ppocr; the override gives Tesseract sgenet-easyocr.
    assert Path(ppocr["table"]["weights"]["matched"]["path"]).name == "sgenet_x2_ppocr.safetensors"
    assert Path(tesseract["table"]["weights"]["matched"]["path"]).name == "sgenet_x2_easyocr.safetensors"
    assert ppocr["table"]["weights"]["generic"]["sha256"] != ppocr["table"]["weights"]["matched"]["sha256"]
    for entry in (ppocr, tesseract):
        table, summary = entry["table"], entry["summary"]
        assert all(table[c]["all"]["n"] == 30 for c in model_matrix.COLUMNS)
        small = summary["small_accuracy"]
        for column, gap in summary["gap_closed"].items():
            assert gap == pytest.approx((small[column] - small["identity"]) / (small["hr"] - small["identity"]))
        # The default (here: matched) weights paired with the better plain column on words <= 12 px.
        paired = table["paired"]
        bar = paired["bar"]
        assert paired["weights"] == "matched" and small[bar] == max(small["identity"], small["bicubic"])
        assert paired["n"] == sum(table[bar][b]["n"] for b in model_matrix.SMALL)
        assert paired["fixed"] - paired["broken"] == round(paired["n"] * (small["matched"] - small[bar]))
        assert 0 < paired["p"] <= 1
    text = md.read_text()
    assert "| ppocr | matched |" in text and "(p " in text


def test_small_accuracy_weighs_the_buckets_by_their_words():
    cells = {"<=8": {"n": 10, "accuracy": 0.1}, "9-12": {"n": 30, "accuracy": 0.5}}
    assert model_matrix.small_accuracy(cells) == pytest.approx(0.4)
    assert model_matrix.gap_closed(0.4, 0.2, 0.6) == pytest.approx(0.5)
    assert model_matrix.gap_closed(0.1, 0.2, 0.6) == pytest.approx(-0.25)
    assert model_matrix.gap_closed(0.4, 0.6, 0.6) is None  # no gap to close


def test_margin_over_plain_is_none_where_a_protocol_has_no_small_words():
    cell = {"<=8": {"n": 0, "accuracy": None}, "9-12": {"n": 10, "accuracy": 0.5}}
    table = {"identity": cell, "bicubic": {**cell, "9-12": {"n": 10, "accuracy": 0.6}},
             "generic": {**cell, "9-12": {"n": 10, "accuracy": 0.7}}}
    assert model_matrix.summarise("textzoom", "ppocr", table)["margin_over_plain"] == \
        {"generic": {"<=8": None, "9-12": 10.0}}


@pytest.mark.parametrize("args, needle", [(["--protocols", "fourth"], "fourth"),
                                          (["--matched", "ppocr"], "RECOGNIZER=WEIGHTS"),
                                          (["--limit", "0"], "--limit")])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, args, needle):
    assert model_matrix.main(["--data", str(tmp_path), "--json", str(tmp_path / "x.json"), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
