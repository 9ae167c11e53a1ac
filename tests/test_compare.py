"""Word-by-word comparison of two evaluations: pairing, the sign test, and its one-line errors."""
from __future__ import annotations

import json

import pytest

from sgenet_ocr.errors import UsageError
from sgenet_ocr.evaluation.compare import compare, main
from sgenet_ocr.metrics import paired_change, sign_test

LABELS = ["exit", "road", "hotel", "cafe", "bus", "stop"]
BUCKETS = ["<=8", "<=8", "9-12", "9-12", "13-16", ">16"]


def _result(readings: dict[str, dict[str, list[str]]], labels=LABELS) -> dict:
    return {"settings": {}, "rows": [],
            "words": {"labels": list(labels), "buckets": BUCKETS, "sources": [f"{i}.png" for i in range(6)],
                      "readings": readings}}


def test_sign_test_is_the_exact_binomial():
    assert sign_test(0, 0) == 1.0 and sign_test(5, 5) == 1.0
    assert sign_test(8, 0) == pytest.approx(2 / 2 ** 8)  # both one-sided tails of 8 changed words
    assert sign_test(1, 7) == sign_test(7, 1) == pytest.approx(2 * 9 / 2 ** 8)
    assert 0.05 < sign_test(9, 3) < 0.2
    assert paired_change([True, False, False, True], [True, True, True, False]) == (2, 1, 1.0)
    with pytest.raises(ValueError, match="differ in length"):
        paired_change([True], [True, False])


def test_pairs_words_by_bucket_and_pools_the_small_ones():
    base = _result({"ppocr": {"sgenet": ["exit", "rood", "hotel", "cafe", "bus", "stap"]},
                    "tesseract": {"sgenet": LABELS}})
    new = _result({"ppocr": {"sgenet": ["EXIT", "road", "hote", "cafe", "bus", "stop"]}})
    rows = {r.bucket: r for r in compare(base, new)}  # tesseract: only in base, left out
    assert {r.recognizer for r in compare(base, new)} == {"ppocr"}
    assert (rows["all"].fixed, rows["all"].broken, rows["all"].gain) == (2, 1, 1)
    assert rows["all"].base_accuracy == pytest.approx(4 / 6, abs=1e-4)
    assert rows["all"].new_accuracy == pytest.approx(5 / 6, abs=1e-4)
    assert (rows["<=8"].fixed, rows["9-12"].broken) == (1, 1)
    assert (rows["<=12"].n, rows["<=12"].fixed, rows["<=12"].broken) == (4, 1, 1)
    assert rows[">16"].p_value == 1.0 and rows["13-16"].fixed == rows["13-16"].broken == 0


def test_restorers_of_one_file_can_be_compared():
    result = _result({"ppocr": {"bicubic": ["x"] * 6, "sgenet": LABELS}})
    all_words = {r.bucket: r for r in compare(result, result, base_restorer="bicubic")}["all"]
    assert (all_words.fixed, all_words.broken, all_words.base_accuracy) == (6, 0, 0.0)


def test_files_that_cannot_be_paired_are_usage_errors(tmp_path, capsys):
    base = _result({"ppocr": {"sgenet": LABELS}})
    with pytest.raises(UsageError, match="different words"):
        compare(base, _result({"ppocr": {"sgenet": LABELS}}, labels=LABELS[::-1]))
    with pytest.raises(UsageError, match="no readings of restorer 'bicubic'; it has: sgenet"):
        compare(base, base, base_restorer="bicubic")
    with pytest.raises(UsageError, match="share no recogniser"):
        compare(base, _result({"easyocr": {"sgenet": LABELS}}))

    good, bare, broken = tmp_path / "good.json", tmp_path / "bare.json", tmp_path / "broken.json"
    good.write_text(json.dumps(base))
    bare.write_text(json.dumps({"settings": {}, "rows": []}))
    broken.write_text("{not json")
    for args in ([str(good), str(bare)], [str(good), str(broken)], [str(good), str(tmp_path / "absent.json")]):
        assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and "--per-word" in err and "Traceback" not in err


def test_the_command_prints_and_writes_the_rows(tmp_path, capsys):
    base, new = tmp_path / "base.json", tmp_path / "new.json"
    base.write_text(json.dumps(_result({"ppocr": {"sgenet": ["x"] * 6}})))
    new.write_text(json.dumps(_result({"ppocr": {"sgenet": LABELS}})))
    out = tmp_path / "out" / "diff.json"
    assert main([str(base), str(new), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "`base.json: sgenet` -> `new.json: sgenet`" in printed
    assert "| ppocr | all | 6 | 0.0 | 100.0 | 6 | 0 | +6 | 0.031 |" in printed
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 6 and rows[0]["fixed"] == 6
    before = base.read_text()
    assert main([str(base), str(new), "--json", str(base)]) == 2  # never over an input
    assert base.read_text() == before
    assert "--json" in capsys.readouterr().err


def test_buckets_the_words_do_not_reach_are_not_printed(capsys):
    from sgenet_ocr.evaluation.compare import markdown

    small = {"settings": {}, "rows": [], "words": {"labels": LABELS[:4], "buckets": BUCKETS[:4],
                                                   "sources": [f"{i}.png" for i in range(4)],
                                                   "readings": {"ppocr": {"sgenet": LABELS[:4]}}}}
    rows = compare(small, small)
    assert {r.bucket for r in rows if r.n == 0} == {"13-16", ">16"}  # kept in the JSON rows
    table = markdown(rows, "a", "b")
    assert "| ppocr | <=12 | 4 |" in table and "13-16" not in table and ">16" not in table
