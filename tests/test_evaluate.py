"""Evaluation: protocols, metrics, scoring rows, and real runs with a real recogniser."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.errors import UsageError
from sgenet_ocr.evaluate import RECOGNIZER_ENGINES, engine_name, evaluate, main
from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS, WordPair, degrade, lr_height_bucket, load_samples
from sgenet_ocr.evaluation.scoring import make_rows, quality
from sgenet_ocr.metrics import normalize_text, psnr, ssim, word_accuracy, word_correct

ROW_KEYS = {"recognizer", "restorer", "protocol", "bucket", "n", "accuracy", "psnr", "ssim"}


def test_textzoom_text_normalisation_and_accuracy():
    assert normalize_text("Hello, World-42!") == "helloworld42"
    assert word_correct("EXIT.", "exit") is True
    assert word_correct("exlt", "EXIT") is False
    assert word_correct("anything", "!!") is None
    assert word_accuracy(["a", "b", "x"], ["A", "c", "--"]) == (0.5, 2)
    assert math.isnan(word_accuracy(["a"], ["?"])[0])


def test_psnr_and_ssim_definitions():
    a = np.full((32, 64, 3), 100, np.uint8)
    b = a + 10
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 100))
    assert psnr(a, a) == 100.0 and ssim(a, a) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
    noisy = np.clip(texture + rng.normal(0, 40, texture.shape), 0, 255).astype(np.uint8)
    assert 0.0 < ssim(texture, noisy) < 0.9
    with pytest.raises(ValueError):
        psnr(a, a[:, :10])


def test_protocols_shrink_the_crop_as_documented():
    hr = np.random.default_rng(1).integers(0, 256, (30, 90, 3), dtype=np.uint8)
    assert degrade(hr, "half").shape == (15, 45, 3)
    assert degrade(hr, "third").shape == (10, 30, 3)
    assert degrade(hr, "textzoom").shape == (16, 64, 3)
    blurred, plain = degrade(hr, "half-blur"), degrade(hr, "half")
    assert blurred.shape == plain.shape and not np.array_equal(blurred, plain)
    assert np.array_equal(degrade(hr, "half-blur"), blurred)  # deterministic
    assert [lr_height_bucket(h) for h in (8, 9, 12, 13, 16, 17)] == ["<=8", "9-12", "9-12", "13-16", "13-16", ">16"]
    with pytest.raises(UsageError):
        degrade(hr, "quarter")


def test_quality_compares_at_the_documented_sizes():
    hr = np.random.default_rng(2).integers(0, 256, (20, 60, 3), dtype=np.uint8)
    sample = WordPair(degrade(hr, "half"), hr, "x")
    p_identity, _ = quality(sample.lr, sample)           # LR upsampled to HR size
    p_perfect, s_perfect = quality(hr, sample)           # same size as HR
    p_bigger, _ = quality(np.asarray(Image.fromarray(hr).resize((120, 40))), sample)  # HR resized up
    assert p_perfect == 100.0 and s_perfect == pytest.approx(1.0)
    assert p_identity < 40 and p_bigger > p_identity


def test_rows_cover_every_bucket_and_split():
    rng = np.random.default_rng(3)
    samples = [WordPair(rng.integers(0, 256, (h, 3 * h, 3), dtype=np.uint8),
                      rng.integers(0, 256, (2 * h, 6 * h, 3), dtype=np.uint8), "ab", split)
               for h, split in ((7, "easy"), (10, "easy"), (14, "hard"), (20, "hard"))]
    rows = make_rows(samples, "textzoom", "bicubic", "ppocr", ["ab", "x", "AB", "ab"], [(20.0, 0.5)] * 4)
    assert {r["split"] for r in rows} == {"all", "easy", "hard"}
    overall = [r for r in rows if r["split"] == "all" and r["bucket"] == "all"][0]
    assert overall["n"] == 4 and overall["accuracy"] == 0.75 and overall["psnr"] == 20.0
    assert {r["bucket"] for r in rows} == {"all", *LR_HEIGHT_BUCKETS}
    assert ROW_KEYS <= set(overall)


def test_recognizer_name_map_lives_in_one_place():
    assert engine_name("ppocr") == "rapidocr" and engine_name("easyocr") == "easyocr"
    assert RECOGNIZER_ENGINES["tesseract"] == "tesseract"


def test_bad_arguments_give_one_line_errors(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "none"), "--restorers", "identity", "--recognizers", "ppocr"]) == 2
    assert main(["--data", str(tmp_path), "--restorers", "nope", "--recognizers", "ppocr"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 2 and "Traceback" not in err
    # Outputs are checked before any word is read (a 10-minute evaluation used to end in a traceback).
    (tmp_path / "folder").mkdir()
    for option, value, message in (("--json", tmp_path / "folder", "is a folder"),
                                   ("--grid", tmp_path / "grid.txt", "not a file name ending in .bmp")):
        assert main(["--data", str(tmp_path / "none"), "--restorers", "identity", "--recognizers", "ppocr",
                     option, str(value)]) == 2
        err = capsys.readouterr().err
        assert f"error: {option} {value}" in err and message in err

    from sgenet_ocr.evaluation.report import main as report

    (tmp_path / "text.json").write_text("not json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    (tmp_path / "thin.json").write_text('{"settings": {"protocol": "half", "data": "d"}, "rows": []}')
    for name in ("text.json", "other.json", "thin.json", "absent.json"):
        assert report([str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("not an evaluation JSON") == 3 and "(no settings.samples)" in err
    assert "not found" in err and "Traceback" not in err


def test_a_crop_height_limit_keeps_the_small_crops_of_a_folder(tmp_path, capsys):
    """--max-crop-height: a training folder's crops too small for training (< 24 px) become a
    held-out set like dev's small words; the limit is refused where it means nothing."""
    folder = tmp_path / "words"
    (folder / "images").mkdir(parents=True)
    heights = [18, 23, 24, 40]
    rng = np.random.default_rng(0)
    lines = []
    for i, height in enumerate(heights):
        Image.fromarray(rng.integers(0, 255, (height, 3 * height, 3), dtype=np.uint8)).save(folder / "images" / f"{i}.png")
        lines.append(f"{i}.png\tword{i}\n")
    (folder / "labels.tsv").write_text("".join(lines))
    samples, _ = load_samples(folder, "half", max_crop_height=23)
    assert [s.label for s in samples] == ["word0", "word1"]
    assert [s.lr.shape[0] for s in samples] == [9, 12] and samples[1].hr.shape[0] == 23
    assert len(load_samples(folder, "half")[0]) == 4

    _lmdb_from_crops(folder, tmp_path / "tz", limit=2)
    with pytest.raises(UsageError, match="applies to crops folders"):
        load_samples(tmp_path / "tz", "textzoom", max_crop_height=23)
    assert main(["--data", str(folder), "--max-crop-height", "0", "--restorers", "identity",
                 "--recognizers", "ppocr"]) == 2
    assert "--max-crop-height must be a whole number >= 1" in capsys.readouterr().err


def _lmdb_from_crops(folder: Path, out: Path, limit: int) -> None:
    from sgenet_ocr.data.textzoom import crop_to_pair, write_lmdb
    from sgenet_ocr.data.crops import load_crops

    for split in ("easy", "hard"):
        write_lmdb(out / split, [crop_to_pair(c.image, c.label) for c in load_crops(folder, limit=limit)])


@pytest.mark.slow
@pytest.mark.needs_data
def test_real_crops_with_a_real_recogniser(shared_data, tmp_path):
    """Six ICDAR 2015 words read by PP-OCR (RapidOCR): rows, JSON and grid are all produced."""
    data = shared_data / "ic15_words_dev"
    out_json, out_png = tmp_path / "eval.json", tmp_path / "grid.png"
    cache = tmp_path / "cache.json"
    assert main(["--data", str(data), "--protocol", "half", "--restorers", "identity,bicubic",
                 "--recognizers", "ppocr", "--limit", "6", "--json", str(out_json), "--grid", str(out_png),
                 "--keep", "confident", "--cache", str(cache)]) == 0
    result = json.loads(out_json.read_text())
    rows = result["rows"]
    assert {r["restorer"] for r in rows} == {"identity", "bicubic", "bicubic+confident", "hr"}
    assert all(ROW_KEYS <= set(r) for r in rows) and result["settings"]["keep"] == "confident"
    overall = {r["restorer"]: r for r in rows if r["bucket"] == "all"}
    assert all(r["n"] == 6 for r in overall.values())
    assert overall["hr"]["accuracy"] >= 0.5  # PP-OCR reads most full-size ICDAR words
    assert overall["hr"]["psnr"] is None and overall["bicubic"]["psnr"] > 15
    assert overall["bicubic+confident"]["psnr"] is None  # the kept image differs word by word
    # The kept readings are the more confident ones, as cached.
    from sgenet_ocr.evaluation.cache import RecognitionCache
    from sgenet_ocr.imaging import pixels_key
    from sgenet_ocr.keep import keep_policy
    from sgenet_ocr.restorers import BicubicRestorer

    samples, _ = load_samples(data, "half", 6)
    memo = RecognitionCache(cache)
    lr = [memo.get("ppocr", pixels_key(s.lr), need_confidence=True) for s in samples]
    up = [memo.get("ppocr", pixels_key(im), need_confidence=True) for im in BicubicRestorer().restore([s.lr for s in samples])]
    assert None not in lr + up
    kept, _ = keep_policy("confident").apply(lr, up)
    expected = word_accuracy([text for text, _ in kept], [s.label for s in samples])[0]
    assert overall["bicubic+confident"]["accuracy"] == pytest.approx(expected, abs=1e-4)
    assert sum(result["settings"]["bucket_counts"].values()) == 6
    assert Image.open(out_png).size[0] > 300

    # The same words as a TextZoom LMDB with easy/hard splits.
    _lmdb_from_crops(data, tmp_path / "tz", limit=3)
    samples, _ = load_samples(tmp_path / "tz", "textzoom")
    assert len(samples) == 6 and {s.split for s in samples} == {"easy", "hard"}
    result = evaluate(tmp_path / "tz", "textzoom", ["bicubic"], ["ppocr"])
    assert {r.get("split") for r in result["rows"]} == {"all", "easy", "hard"}


@pytest.mark.slow
def test_sgenet_restorer_on_rendered_words(tmp_path):
    """The sgenet restorer (real model, weights from save_weights) through the whole evaluation."""
    from sgenet_ocr.data.synth import render_words
    from sgenet_ocr.models import create_model, save_weights

    folder = tmp_path / "words"
    (folder / "images").mkdir(parents=True)
    lines = []
    for i, crop in enumerate(render_words(4, seed=4, words=["HOTEL", "exit"], max_rotation=0)):
        Image.fromarray(crop.image).save(folder / "images" / f"{i}.png")
        lines.append(f"{i}.png\t{crop.label}\n")
    (folder / "labels.tsv").write_text("".join(lines))
    weights = tmp_path / "w.safetensors"
    save_weights(create_model("sgenet"), weights, {"note": "untrained, test only"})
    result = evaluate(folder, "third", ["bicubic", "sgenet"], ["ppocr"], weights=str(weights), keep="restored",
                      per_word=True)
    rows = {r["restorer"]: r for r in result["rows"] if r["bucket"] == "all"}
    assert set(rows) == {"bicubic", "sgenet", "hr"}
    assert rows["hr"]["accuracy"] >= 0.5
    assert rows["sgenet"]["psnr"] is not None and result["settings"]["weights"]["sha256"]

    # The per-word readings are the ones the rows counted, and pair up restorer against restorer.
    from sgenet_ocr.evaluation.compare import compare

    words = result["words"]
    assert words["labels"] == [line.split("\t")[1].strip() for line in lines]
    for restorer in ("bicubic", "sgenet", "hr"):
        texts = words["readings"]["ppocr"][restorer]
        assert word_accuracy(texts, words["labels"])[0] == pytest.approx(rows[restorer]["accuracy"], abs=1e-4)
    paired = {r.bucket: r for r in compare(result, result, base_restorer="bicubic", new_restorer="hr")}["all"]
    assert paired.n == 4 and paired.gain == round(4 * (rows["hr"]["accuracy"] - rows["bicubic"]["accuracy"]))


def test_unknown_keep_policy_is_a_usage_error():
    # The policy itself (more confident reading, ties keep the restored) is tested in test_keep.py.
    with pytest.raises(UsageError, match="keep policy"):
        evaluate("unused", "half", ["bicubic"], ["ppocr"], keep="best")


def test_caches_reuse_readings_and_restorations(tmp_path):
    from sgenet_ocr.evaluation.cache import CachedRestorer, RecognitionCache
    from sgenet_ocr.imaging import pixels_key
    from sgenet_ocr.restorers import BicubicRestorer

    image = np.random.default_rng(5).integers(0, 256, (12, 30, 3), dtype=np.uint8)
    cache = RecognitionCache(tmp_path / "c.json")
    cache.put("ppocr", pixels_key(image), "exit", 0.75)
    cache.entries["ppocr"]["older"] = "road"  # a file written before confidences were kept
    cache.save()
    again = RecognitionCache(tmp_path / "c.json")
    assert again.get("ppocr", pixels_key(image)) == ("exit", 0.75) and again.get("easyocr", pixels_key(image)) is None
    assert again.get("ppocr", "older") == ("road", None) and again.get("ppocr", "older", need_confidence=True) is None
    assert pixels_key(image) != pixels_key(image[:, :29])

    built = []
    def factory():
        built.append(1)
        return BicubicRestorer()
    first = CachedRestorer(factory, "bicubic", tmp_path / "r", "w1").restore([image])
    second = CachedRestorer(factory, "bicubic", tmp_path / "r", "w1").restore([image])
    assert len(built) == 1  # the second restorer never built the model
    assert np.array_equal(first[0], second[0]) and first[0].shape == (24, 60, 3)
