"""Crops folders and synthetic words."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.data.crops import load_crops, read_labels
from sgenet_ocr.data.synth import font_files, render_words
from sgenet_ocr.errors import UsageError


def _folder(tmp_path, rows):
    (tmp_path / "images").mkdir()
    for name, h, _ in rows:
        Image.new("RGB", (3 * h, h), (200, 10, 10)).save(tmp_path / "images" / name)
    (tmp_path / "labels.tsv").write_text("".join(f"{n}\t{t}\n" for n, _, t in rows), encoding="utf-8")
    return tmp_path


def test_load_crops_filters_small_and_dont_care(tmp_path):
    folder = _folder(tmp_path, [("a.png", 30, "Hello world"), ("b.png", 10, "tiny"), ("c.png", 30, "###")])
    assert read_labels(folder)[0] == ("a.png", "Hello world")
    crops = load_crops(folder, min_height=16)
    assert [c.label for c in crops] == ["Hello world"]
    assert crops[0].image.shape == (30, 90, 3) and crops[0].image.dtype == np.uint8


def test_bad_labels_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="labels.tsv"):
        load_crops(tmp_path)
    (tmp_path / "labels.tsv").write_text("no tab here\n")
    with pytest.raises(UsageError, match="file<TAB>text"):
        read_labels(tmp_path)


def test_synthetic_words_are_seeded_text_images():
    assert len(font_files()) >= 3
    a = render_words(6, seed=5, words=["EXIT", "Hotel"])
    b = render_words(6, seed=5, words=["EXIT", "Hotel"])
    assert [c.label for c in a] == [c.label for c in b]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b))
    for crop in a:
        assert crop.image.ndim == 3 and crop.image.shape[2] == 3 and crop.height >= 30
        grey = crop.image.astype(float).mean(axis=2)
        assert grey.max() - grey.min() >= 60  # text stands out from its background
    assert render_words(6, seed=6)[0].label != a[0].label or not np.array_equal(render_words(6, seed=6)[0].image, a[0].image)
