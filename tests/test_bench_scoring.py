"""Benchmark metrics on hand-made cases: buckets, accuracy, CER, recall/precision/F1."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scoring import (  # noqa: E402
    Reading, edit_distance, text_height_bucket, paired_changes, recall_by_bucket, recall_precision_f1,
    recognition_scores)


@pytest.mark.parametrize("height, bucket", [
    (3, "<=16"), (16, "<=16"), (16.49, "<=16"), (16.5, "17-32"), (17, "17-32"),
    (32, "17-32"), (32.4, "17-32"), (32.5, ">32"), (200, ">32"),
])
def test_height_bucket_edges(height, bucket):
    assert text_height_bucket(height) == bucket


@pytest.mark.parametrize("a, b, distance", [
    ("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3), ("flaw", "lawn", 2),
    ("abc", "abc", 0), ("abc", "acb", 2),
])
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_recognition_scores_by_bucket():
    readings = [
        Reading("Cafe", "CAFE", 10),      # right after normalisation, <=16
        Reading("Open", "0pen", 12),      # one substitution, <=16
        Reading("24/7", "247", 20),       # right ("24/7" -> "247"), 17-32
        Reading("EXIT", "", 40),          # nothing read: 4 deletions, >32
        Reading("!!", "anything", 20),    # label empty after normalisation: not counted
    ]
    s = recognition_scores(readings)
    assert s["all"]["n"] == 4
    assert s["all"]["accuracy"] == pytest.approx(2 / 4)
    assert s["all"]["cer"] == pytest.approx((0 + 1 + 0 + 4) / (4 + 4 + 3 + 4))
    assert (s["<=16"]["n"], s["<=16"]["accuracy"]) == (2, 0.5)
    assert s["<=16"]["cer"] == pytest.approx(1 / 8)
    assert (s["17-32"]["n"], s["17-32"]["accuracy"], s["17-32"]["cer"]) == (1, 1.0, 0.0)
    assert (s[">32"]["n"], s[">32"]["accuracy"], s[">32"]["cer"]) == (1, 0.0, 1.0)


def test_recognition_scores_empty_buckets_are_nan():
    s = recognition_scores([Reading("abc", "abc", 50)])
    assert s["<=16"]["n"] == 0 and math.isnan(s["<=16"]["accuracy"]) and math.isnan(s["<=16"]["cer"])
    assert s["all"]["accuracy"] == 1.0


def test_recall_precision_f1():
    r, p, f = recall_precision_f1(hits=3, ground_truth=4, predictions=6)
    assert (r, p) == (0.75, 0.5)
    assert f == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    assert recall_precision_f1(0, 5, 5) == (0.0, 0.0, 0.0)
    r, p, f = recall_precision_f1(0, 3, 0)  # nothing predicted: precision undefined
    assert r == 0.0 and math.isnan(p) and math.isnan(f)
    r, p, f = recall_precision_f1(0, 0, 2)
    assert math.isnan(r) and p == 0.0 and math.isnan(f)


def test_recall_by_bucket():
    out = recall_by_bucket([True, False, True, True], [8, 15, 30, 60])
    assert out["all"] == {"n": 4, "recall": 0.75}
    assert out["<=16"] == {"n": 2, "recall": 0.5}
    assert out["17-32"] == {"n": 1, "recall": 1.0}
    assert out[">32"] == {"n": 1, "recall": 1.0}
    assert math.isnan(recall_by_bucket([], [])["all"]["recall"])


def test_paired_changes_counts_fixed_and_broken_words():
    baseline = [Reading("cat", "cat", 10), Reading("dog", "d0g", 10), Reading("owl", "owl", 40),
                Reading("bee", "bea", 20), Reading("..", "x", 10)]
    now = [Reading("cat", "cot", 10), Reading("dog", "DOG", 10), Reading("owl", "owl", 40),
           Reading("bee", "bee", 20), Reading("..", "", 10)]
    out = paired_changes(now, baseline)
    assert out["all"] == {"fixed": 2, "broken": 1, "p": 1.0}
    assert out["<=16"] == {"fixed": 1, "broken": 1, "p": 1.0}
    assert out["17-32"] == {"fixed": 1, "broken": 0, "p": 1.0}
    assert out[">32"] == {"fixed": 0, "broken": 0, "p": 1.0}
    many = paired_changes([Reading("cat", "cat", 10)] * 9, [Reading("cat", "cot", 10)] * 9)
    assert many["all"]["fixed"] == 9 and many["all"]["p"] == pytest.approx(2 / 2 ** 9)
    with pytest.raises(ValueError):
        paired_changes(now, baseline[:2])
