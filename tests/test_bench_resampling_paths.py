"""benchmarks/resampling_paths.py: each path enlarges as named, and the counts add up per bucket."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import resampling_paths  # noqa: E402


def test_paths_give_the_heights_they_name():
    crop = np.random.default_rng(0).integers(0, 255, (7, 30, 3), dtype=np.uint8)
    heights = {name: enlarge(crop).shape[0] for name, enlarge in resampling_paths.paths().items()}
    assert heights["as is"] == 7 and heights["bilinear x2"] == 14
    assert {h for name, h in heights.items() if "32 px" in name or "SGENet" in name} == {32}
    # The two-step SGENet base and the one-step bicubic differ: that difference is what is measured.
    paths = resampling_paths.paths()
    assert not np.array_equal(paths["bicubic (PIL) to 32 px"](crop), paths["bicubic to 16 px, then x2 (SGENet's base)"](crop))


@pytest.mark.needs_data
def test_counts_add_up_by_bucket(shared_data, tmp_path):
    out = tmp_path / "paths.json"
    assert resampling_paths.main(["--data", str(shared_data / "ic15_words_dev"), "--engines", "tesseract",
                                  "--limit", "80", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    (engine,) = report["engines"]
    assert engine["words"] == sum(report["settings"]["words_by_bucket"].values()) > 0
    for row in engine["paths"]:
        assert row["correct"] == sum(row["correct_by_bucket"].values()) <= engine["words"]


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert resampling_paths.main(["--data", str(tmp_path), "--max-height", "0", "--json", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "--max-height" in err and err.count("\n") == 1
