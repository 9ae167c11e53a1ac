"""TextZoom LMDB writer/reader, splits and the crops-folder converter."""
from __future__ import annotations

import lmdb
import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.data.textzoom import Pair, TextZoomLmdb, main, open_splits, write_lmdb
from sgenet_ocr.errors import UsageError


def _pairs(n: int, seed: int = 0) -> list[Pair]:
    rng = np.random.default_rng(seed)
    return [Pair(rng.integers(0, 256, (16, 64, 3), dtype=np.uint8),
                 rng.integers(0, 256, (32, 128, 3), dtype=np.uint8), f"wörd{i}") for i in range(n)]


def test_round_trip_keeps_pixels_labels_and_key_layout(tmp_path):
    pairs = _pairs(5)
    assert write_lmdb(tmp_path / "db", pairs) == 5
    db = TextZoomLmdb(tmp_path / "db")
    assert len(db) == 5
    for original, read in zip(pairs, db):
        assert np.array_equal(original.lr, read.lr) and np.array_equal(original.hr, read.hr)
        assert original.label == read.label
    db.close()
    env = lmdb.open(str(tmp_path / "db"), readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.get(b"num-samples") == b"5"
        assert txn.get(b"image_hr-000000001")[:8] == b"\x89PNG\r\n\x1a\n"
        assert txn.get(b"label-000000005") == "wörd4".encode()
        assert txn.get(b"image_lr-000000000") is None  # 1-based
    env.close()


def test_textzoom_test_folder_opens_as_splits(tmp_path):
    for i, split in enumerate(("easy", "medium", "hard")):
        write_lmdb(tmp_path / split, _pairs(i + 1, seed=i))
    splits = open_splits(tmp_path)
    assert {k: len(v) for k, v in splits.items()} == {"easy": 1, "medium": 2, "hard": 3}
    assert splits["medium"][1].label == "wörd1"
    for db in splits.values():
        db.close()
    single = open_splits(tmp_path / "hard")
    assert list(single) == ["all"]
    single["all"].close()
    with pytest.raises(UsageError):
        open_splits(tmp_path / "missing")


def test_converter_cli_writes_textzoom_geometry(tmp_path, capsys):
    folder = tmp_path / "crops"
    (folder / "images").mkdir(parents=True)
    lines = []
    for i, (w, h) in enumerate([(90, 30), (200, 40), (50, 50)]):
        Image.new("RGB", (w, h), (i * 50, 100, 200)).save(folder / "images" / f"{i}.png")
        lines.append(f"{i}.png\tword{i}\n")
    (folder / "labels.tsv").write_text("".join(lines))
    assert main([str(folder), str(tmp_path / "tz")]) == 0
    with TextZoomLmdb(tmp_path / "tz") as db:
        assert len(db) == 3 and db[1].label == "word1"
        assert db[0].hr.shape == (32, 128, 3) and db[0].lr.shape == (16, 64, 3)
    assert main([str(folder), str(tmp_path / "asp"), "--protocol", "aspect", "--limit", "2"]) == 0
    with TextZoomLmdb(tmp_path / "asp") as db:
        assert len(db) == 2 and db[1].hr.shape == (32, 160, 3) and db[1].lr.shape == (16, 80, 3)
    assert main([str(tmp_path / "nothing"), str(tmp_path / "x")]) == 2
    assert "error" in capsys.readouterr().err
    # Never into a file or a folder that holds something (an earlier LMDB would keep old records).
    before = (tmp_path / "tz" / "data.mdb").read_bytes()
    for out, message in ((tmp_path / "crops" / "labels.tsv", "is a file"), (tmp_path / "tz", "is not empty")):
        assert main([str(folder), str(out), "--limit", "1"]) == 2
        assert message in capsys.readouterr().err
    assert (tmp_path / "tz" / "data.mdb").read_bytes() == before
