"""benchmarks/loss_reader_parity.py: the training's loss reader gives the engine's text on restored crops."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import loss_reader_parity  # noqa: E402


@pytest.mark.needs_data
@pytest.mark.slow
def test_the_loss_reader_reads_rapidocrs_words_the_unpadded_prior_does_not(shared_data, tmp_path):
    out, md = tmp_path / "parity.json", tmp_path / "parity.md"
    code = loss_reader_parity.main(["--data", str(shared_data / "ic15_words_dev"), "--engines", "rapidocr,tesseract",
                                    "--limit", "40", "--json", str(out), "--markdown", str(md)])
    assert code == 0
    rapid, tesseract = json.loads(out.read_text())["engines"]
    assert tesseract["skipped"] and rapid["loss_reader"] == "ppocrv4_rec"
    rows = {(r["reader"], r["bucket"]): r for r in rapid["rows"]}
    assert rows["engine", "all"]["n"] == 40 and rows["engine", "all"]["same_as_engine"] == 1.0
    # cv2 vs torch resizing rounds differently: a hard character may flip, not a tenth of the words
    assert rows["loss reader", "all"]["same_as_engine"] >= 0.9
    assert rows["unpadded prior", "all"]["same_as_engine"] < rows["loss reader", "all"]["same_as_engine"]
    assert "| rapidocr | loss reader |" in md.read_text()


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert loss_reader_parity.main(["--data", str(tmp_path / "none"), "--json", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
