"""Quad IoU and the ICDAR 2015 end-to-end matching used by benchmarks/e2e.py."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.matching import greedy_match, match_page, quad_iou  # noqa: E402


def box(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def rotated_square(cx, cy, half, degrees):
    a = math.radians(degrees)
    corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
    return np.array([[cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a)]
                     for x, y in corners], dtype=np.float32)


def test_iou_identical_is_one():
    assert quad_iou(box(0, 0, 10, 5), box(0, 0, 10, 5)) == pytest.approx(1.0)


def test_iou_disjoint_is_zero():
    assert quad_iou(box(0, 0, 10, 10), box(20, 0, 30, 10)) == 0.0


def test_iou_touching_edges_is_zero():
    assert quad_iou(box(0, 0, 10, 10), box(10, 0, 20, 10)) == 0.0


def test_iou_partial_overlap():
    # 10x10 squares shifted by 5: intersection 50, union 150
    assert quad_iou(box(0, 0, 10, 10), box(5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_iou_contained_box():
    assert quad_iou(box(0, 0, 10, 10), box(0, 0, 5, 10)) == pytest.approx(0.5)


def test_iou_rotated_square_against_upright_square():
    # A square and the same square turned 45 degrees overlap in a regular octagon: IoU = 1/sqrt(2)
    upright = rotated_square(50, 50, 10, 0)
    turned = rotated_square(50, 50, 10, 45)
    assert quad_iou(upright, turned) == pytest.approx(1 / math.sqrt(2), rel=1e-5)


def test_iou_ignores_corner_order():
    q = box(0, 0, 10, 10)
    assert quad_iou(q, q[[2, 3, 0, 1]]) == pytest.approx(1.0)
    assert quad_iou(q, q[::-1]) == pytest.approx(1.0)


def test_iou_of_self_intersecting_or_flat_quads_is_finite():
    bow_tie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], dtype=np.float32)
    value = quad_iou(bow_tie, box(0, 0, 10, 10))
    assert 0.0 <= value <= 1.0
    flat = np.array([[0, 0], [10, 0], [20, 0], [30, 0]], dtype=np.float32)
    assert quad_iou(flat, box(0, 0, 10, 10)) == 0.0


def test_greedy_match_takes_best_pairs_first_and_one_to_one():
    iou = np.array([[0.6, 0.9],
                    [0.0, 0.7]])
    # best first: (0,1); row 1 then has only column 0 left, below threshold
    assert greedy_match(iou) == [(0, 1)]
    iou = np.array([[0.8, 0.6],
                    [0.7, 0.55]])
    assert greedy_match(iou) == [(0, 0), (1, 1)]


def test_greedy_match_threshold_is_inclusive():
    assert greedy_match(np.array([[0.5]])) == [(0, 0)]
    assert greedy_match(np.array([[0.4999]])) == []
    assert greedy_match(np.zeros((0, 3))) == []


def test_match_page_counts_hits_misreads_and_misses():
    gts = [box(0, 0, 100, 20), box(0, 50, 100, 70), box(0, 100, 100, 120)]
    texts = ["Hello", "World", "Missed"]
    preds = [box(2, 1, 101, 21), box(0, 50, 100, 71)]
    m = match_page(gts, texts, [False] * 3, preds, ["HELLO!", "Word"])
    assert m.gt_hit == [True, False, False]  # case and punctuation do not count; a misread does
    assert m.hits == 1 and m.predictions == 2 and m.ignored_predictions == 0
    assert sorted(m.pairs) == [(0, 0), (1, 1)]


def test_match_page_dont_care_regions_and_their_predictions_are_ignored():
    gts = [box(0, 0, 100, 20), box(200, 0, 300, 20)]
    texts = ["word", "###"]
    preds = [box(0, 0, 100, 20), box(205, 2, 295, 18), box(150, 0, 250, 20)]
    m = match_page(gts, texts, [False, True], preds, ["word", "anything", "half"])
    # pred 1 lies inside the don't-care box: ignored; pred 2 is half in it (not more): counted, unmatched
    assert m.gt_index == [0] and m.gt_hit == [True]
    assert m.ignored_predictions == 1 and m.predictions == 2


def test_match_page_empty_readings_and_punctuation_labels():
    gts = [box(0, 0, 100, 20), box(0, 50, 100, 70)]
    texts = ["--", "text"]  # "--" normalises to nothing: don't care
    preds = [box(0, 0, 100, 20), box(0, 50, 100, 70)]
    m = match_page(gts, texts, [False, False], preds, ["--", "  "])
    assert m.gt_index == [1] and m.gt_hit == [False]
    assert m.predictions == 0  # both readings are empty after normalisation: dropped


def test_match_page_one_prediction_cannot_match_two_ground_truths():
    gts = [box(0, 0, 100, 20), box(0, 0, 100, 20)]
    m = match_page(gts, ["same", "same"], [False, False], [box(0, 0, 100, 20)], ["same"])
    assert m.hits == 1 and sorted(m.gt_hit) == [False, True]


def test_match_page_low_iou_is_not_a_match_even_with_the_right_text():
    m = match_page([box(0, 0, 100, 20)], ["word"], [False], [box(60, 0, 160, 20)], ["word"])
    assert m.hits == 0 and m.pairs == [] and m.predictions == 1
