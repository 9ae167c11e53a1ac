"""benchmarks/throughput.py: bad arguments are one-line usage errors, found before any page is read."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import throughput  # noqa: E402


@pytest.mark.parametrize("args, message", [
    (["--limit", "0"], "--limit: must be at least 1"),
    (["--workers", "two"], "--workers: not an integer"),
    (["--cpus-per-worker", "0"], "--cpus-per-worker: must be above 0"),
    (["--engine-threads", "-1"], "--engine-threads: must be at least 1"),
])
def test_bad_numbers_are_usage_errors(args, message, tmp_path, capsys):
    assert throughput.main(["--data", str(tmp_path), "--json", str(tmp_path / "t.json"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_data_folder_without_pages_is_a_usage_error(tmp_path, capsys):
    assert throughput.main(["--data", str(tmp_path), "--json", str(tmp_path / "t.json")]) == 2
    assert "ic15_e2e_dev" in capsys.readouterr().err
    (tmp_path / "ic15_e2e_dev" / "images").mkdir(parents=True)
    assert throughput.main(["--data", str(tmp_path), "--json", str(tmp_path / "t.json")]) == 2
    assert "no img_*.jpg pages" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()
