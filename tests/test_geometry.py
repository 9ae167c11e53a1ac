"""Quads: ordering, sizes, degenerate detection and perspective crops."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from sgenet_ocr.geometry import (as_quad, is_degenerate, order_clockwise, perspective_crop, quad_area,
                                 quad_height, quad_size)

RECT = np.array([[10, 20], [110, 20], [110, 50], [10, 50]], np.float32)


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))))
def test_any_point_order_becomes_clockwise_from_top_left(perm):
    assert np.array_equal(order_clockwise(RECT[list(perm)]), RECT)


def test_rotated_quad_keeps_reading_direction():
    angle = np.deg2rad(20)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = (RECT - RECT.mean(0)) @ rot.T + 200
    ordered = order_clockwise(quad[[2, 0, 3, 1]])
    np.testing.assert_allclose(ordered, quad, atol=1e-4)
    w, h = quad_size(ordered)
    assert w == pytest.approx(100, abs=1e-3) and h == pytest.approx(30, abs=1e-3)


def test_sizes_and_area():
    assert quad_height(RECT) == pytest.approx(30)
    assert quad_area(RECT) == pytest.approx(3000)
    assert as_quad(RECT.reshape(-1).tolist()).shape == (4, 2)


@pytest.mark.parametrize("bad", [[1, 2, 3], [np.nan] * 8, [[0, 0]] * 4])
def test_invalid_quads(bad):
    if len(np.asarray(bad).reshape(-1)) != 8 or np.isnan(np.asarray(bad, float)).any():
        with pytest.raises(ValueError):
            as_quad(bad)
    else:
        assert is_degenerate(as_quad(bad))


def test_degenerate_and_off_image_quads():
    line = np.array([[0, 0], [50, 0], [50, 1], [0, 1]], np.float32)
    collinear = np.array([[0, 0], [10, 10], [20, 20], [30, 30]], np.float32)
    assert is_degenerate(line) and is_degenerate(collinear)
    assert not is_degenerate(RECT, (100, 200))
    assert is_degenerate(RECT + 1000, (100, 200))


def test_perspective_crop_recovers_a_rotated_pattern():
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 255, (30, 100, 3), dtype=np.uint8).repeat(1, 0)
    page = np.full((300, 400, 3), 127, np.uint8)
    page[100:130, 150:250] = patch
    quad = np.array([[150, 100], [250, 100], [250, 130], [150, 130]], np.float32)
    crop = perspective_crop(page, quad)
    assert crop.shape == (30, 100, 3)
    assert np.abs(crop.astype(int) - patch).mean() < 1.0  # same pixels, interpolation aside


def test_crop_of_a_quad_outside_the_image_has_the_quad_size():
    page = np.zeros((50, 50, 3), np.uint8)
    quad = np.array([[40, 40], [90, 40], [90, 60], [40, 60]], np.float32)
    assert perspective_crop(page, quad).shape == (20, 50, 3)


def test_a_nan_quad_is_refused_showing_its_numbers_not_their_count():
    with pytest.raises(ValueError, match=r"a quad needs 8 finite numbers, got \[nan, nan, nan, nan, nan, nan, nan, nan\]"):
        as_quad([np.nan] * 8)
    with pytest.raises(ValueError, match="a quad needs 8 finite numbers, got 6$"):
        as_quad([[0, 0], [1, 0], [1, 1]])
