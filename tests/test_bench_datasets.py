"""ICDAR 2015 and SROIE annotation readers, including the lines they must skip."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datasets import BadLine, load_dataset, parse_line, read_annotation  # noqa: E402
from sgenet_ocr.errors import UsageError  # noqa: E402


def write_page(root: Path, stem: str, gt_name: str, content: bytes) -> None:
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "gts").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), "white").save(root / "images" / f"{stem}.jpg")
    (root / "gts" / gt_name).write_bytes(content)


def test_parse_line_keeps_commas_in_text():
    item = parse_line("10,20,110,20,110,40,10,40,TAMAN DAYA, JALAN 5,6")
    assert item.text == "TAMAN DAYA, JALAN 5,6"
    assert item.quad.dtype == np.float32 and item.quad.shape == (4, 2)
    assert item.quad.tolist() == [[10, 20], [110, 20], [110, 40], [10, 40]]
    assert not item.dont_care


def test_parse_line_dont_care_and_float_coordinates():
    item = parse_line("1.5,2,11,2,11,9.25,1.5,9.25,###")
    assert item.dont_care and item.text == "###"
    assert item.quad[2].tolist() == [11.0, 9.25]


def test_parse_line_makes_counter_clockwise_quads_clockwise_keeping_the_first_corner():
    item = parse_line("10,20,10,40,110,40,110,20,word")
    assert item.quad.tolist() == [[10, 20], [110, 20], [110, 40], [10, 40]]


@pytest.mark.parametrize("line, reason", [
    ("10,20,110,20,110,40,10,40", "field"),           # no text field
    ("10,20,110,20,110,40", "field"),                 # missing coordinates
    ("10,20,abc,20,110,40,10,40,word", "non-numeric"),
    ("10,20,110,20,110,40,10,,word", "non-numeric"),
    ("10,20,nan,20,110,40,10,40,word", "non-finite"),
    ("10,20,110,20,110,40,10,40,   ", "empty text"),
    ("0,0,10,0,20,0,30,0,flat", "no area"),
])
def test_parse_line_rejects_bad_lines_with_a_reason(line, reason):
    with pytest.raises(BadLine, match=reason):
        parse_line(line)


def test_icdar_file_with_bom_crlf_and_bad_lines(tmp_path):
    content = ("\ufeff377,117,463,117,465,130,378,130,Genaxis Theatre\r\n"
               "493,115,519,115,519,131,493,131,[06]\r\n"
               "374,155,409,155,409,170,374,170,###\r\n"
               "\r\n"
               "1,2,3,4,5,6,7,x8,oops\r\n"
               "10,10,50,10,50,30,10,30,a,b,c\r\n").encode("utf-8") + b"10,10,50,10,50,30,10,30,\xff\xfe\n"
    write_page(tmp_path, "img_1", "gt_img_1.txt", content)
    items, bad = read_annotation(tmp_path / "gts" / "gt_img_1.txt")
    assert [it.text for it in items] == ["Genaxis Theatre", "[06]", "###", "a,b,c"]
    assert [it.dont_care for it in items] == [False, False, True, False]
    assert items[0].quad[0].tolist() == [377, 117]  # the BOM did not spoil the first number
    assert len(bad) == 2
    assert bad[0].startswith("gt_img_1.txt:5:") and "non-numeric" in bad[0]
    assert bad[1].startswith("gt_img_1.txt:7:") and "UTF-8" in bad[1]


def test_sroie_lines_with_commas(tmp_path):
    content = (b"72,25,326,25,326,64,72,64,TAN WOON YANN\n"
               b"110,144,383,144,383,163,110,163,NO.53 55,57 & 59, JALAN SAGU 18,\n"
               b"110,144,383,144,383,163\n")
    write_page(tmp_path, "000", "000.csv", content)
    ds = load_dataset(tmp_path)
    assert ds.layout == "sroie" and len(ds.samples) == 1
    assert [it.text for it in ds.samples[0].items] == ["TAN WOON YANN", "NO.53 55,57 & 59, JALAN SAGU 18,"]
    assert len(ds.bad_lines) == 1 and ds.bad_lines[0].startswith("000.csv:3:")
    assert ds.summary()["bad_lines"] == 1


def test_load_dataset_natural_order_limit_and_images_without_annotation(tmp_path):
    for n in (1, 2, 10):
        write_page(tmp_path, f"img_{n}", f"gt_img_{n}.txt", b"0,0,9,0,9,9,0,9,w\n")
    Image.new("RGB", (8, 8)).save(tmp_path / "images" / "img_3.jpg")  # no annotation
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    ds = load_dataset(tmp_path)
    assert [s.name for s in ds.samples] == ["img_1", "img_2", "img_10"]
    assert ds.images_without_gt == ["img_3.jpg"] and ds.layout == "icdar2015"
    assert [s.name for s in load_dataset(tmp_path, limit=2).samples] == ["img_1", "img_2"]


def test_load_dataset_wrong_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="images/ and gts/"):
        load_dataset(tmp_path)


@pytest.mark.needs_data
def test_real_icdar_2015_dev_set_reads_completely(shared_data):
    ds = load_dataset(shared_data / "ic15_e2e_dev")
    summary = ds.summary()
    # the data README: 250 images, 1044 readable words
    assert summary["images"] == 250 and summary["texts"] == 1044 and summary["bad_lines"] == 0
    assert all(s.image_path.is_file() for s in ds.samples)


@pytest.mark.needs_data
def test_real_sroie_dev_set_reads_completely(shared_data):
    ds = load_dataset(shared_data / "sroie_dev")
    assert ds.layout == "sroie" and len(ds.samples) == 50 and not ds.bad_lines
    texts = [it.text for s in ds.samples for it in s.items]
    assert any("," in t for t in texts)  # receipts have commas in their lines
