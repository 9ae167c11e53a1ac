"""Realistic LR degradation, width buckets and the pair dataset."""
from __future__ import annotations

import numpy as np
import pytest

from sgenet_ocr.data.degrade import DegradeConfig, aspect_lr_width, make_hr, make_lr, make_pair
from sgenet_ocr.data.pairs import PairDataset, WidthBucketSampler, collate
from sgenet_ocr.data.crops import Crop
from sgenet_ocr.errors import UsageError


def _word_image(seed: int = 0, h: int = 48, w: int = 150) -> np.ndarray:
    """Dark strokes on a light background: enough structure for blur/noise to show."""
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 220, np.uint8)
    for x in range(6, w - 6, 9):
        top = int(rng.integers(4, h // 3))
        image[top:h - 5, x:x + 3] = rng.integers(0, 60, size=3)
    return image


def _high_frequency(image: np.ndarray) -> float:
    grey = image.astype(np.float64).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_same_seed_gives_identical_pairs_and_different_seeds_differ():
    cfg = DegradeConfig()
    image = _word_image()
    lr_a, hr_a = make_pair(image, np.random.default_rng(7), cfg)
    lr_b, hr_b = make_pair(image, np.random.default_rng(7), cfg)
    assert np.array_equal(lr_a, lr_b) and np.array_equal(hr_a, hr_b)
    others = [make_pair(image, np.random.default_rng(s), cfg)[0] for s in range(8, 14)]
    assert any(not np.array_equal(lr_a, o) for o in others)
    assert all(np.array_equal(hr_a, make_pair(image, np.random.default_rng(s), cfg)[1]) for s in (1, 2))


def test_shapes_follow_aspect_or_textzoom_geometry():
    cfg = DegradeConfig()
    image = _word_image(h=40, w=160)  # aspect 4 -> LR width 64 at height 16
    lr, hr = make_pair(image, np.random.default_rng(0), cfg)
    assert lr.shape == (16, 64, 3) and hr.shape == (32, 128, 3)
    lr, hr = make_pair(_word_image(h=40, w=60), np.random.default_rng(0), cfg, textzoom=True)
    assert lr.shape == (16, 64, 3) and hr.shape == (32, 128, 3)
    assert lr.dtype == np.uint8 and hr.dtype == np.uint8


def test_aspect_width_snaps_and_clamps():
    cfg = DegradeConfig()
    assert aspect_lr_width(32, 70, cfg) == 32      # 35 -> nearest multiple of 8
    assert aspect_lr_width(50, 10, cfg) == cfg.min_lr_width
    assert aspect_lr_width(10, 1000, cfg) == cfg.max_lr_width


def test_stronger_downscale_loses_more_detail():
    clean = dict(blur_prob=0, contrast_prob=0, noise_prob=0, jpeg_prob=0)
    image = _word_image(h=64, w=256)
    mild = make_lr(image, 64, np.random.default_rng(0), DegradeConfig(min_factor=2, max_factor=2, **clean))
    hard = make_lr(image, 64, np.random.default_rng(0), DegradeConfig(min_factor=4, max_factor=4, **clean))
    assert _high_frequency(hard) < 0.8 * _high_frequency(mild)


def test_clean_prob_one_skips_all_camera_damage():
    image = _word_image(h=64, w=256)
    no_damage = dict(blur_prob=0, contrast_prob=0, noise_prob=0, jpeg_prob=0)
    always = dict(blur_prob=1, contrast_prob=1, noise_prob=1, jpeg_prob=1)
    clean = make_lr(image, 64, np.random.default_rng(5), DegradeConfig(clean_prob=1.0, **always))
    plain = make_lr(image, 64, np.random.default_rng(5), DegradeConfig(**no_damage))
    damaged = make_lr(image, 64, np.random.default_rng(5), DegradeConfig(clean_prob=0.0, **always))
    assert np.array_equal(clean, plain)
    assert not np.array_equal(clean, damaged)


def test_hr_is_antialiased_resize_to_32():
    hr = make_hr(_word_image(h=96, w=300), 48, DegradeConfig())
    assert hr.shape == (32, 96, 3)


def test_unknown_degradation_option_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown degradation option"):
        DegradeConfig.from_dict({"blurr": 1})
    assert DegradeConfig.from_dict({"blur_sigma": [0.1, 0.2]}).blur_sigma == (0.1, 0.2)


def test_sampler_batches_hold_one_width_and_respect_the_budget():
    widths = [16, 32, 32, 64, 128, 128, 128, 128] * 10
    sampler = WidthBucketSampler(widths, batch_size=8, seed=3, textzoom_fraction=0.25, width_budget=64)
    stream = iter(sampler)
    batches = [next(stream) for _ in range(40)]
    for batch in batches:
        assert len({w for _, w, _ in batch}) == 1
        width = batch[0][1]
        assert len(batch) <= (8 if width <= 64 else 4)
    assert any(b[0][1] == 64 and widths[b[0][0]] != 64 for b in batches)  # TextZoom geometry used
    assert sampler.largest_batch_width() == 8 * 64 == max(len(b) * b[0][1] for b in batches)
    resumed = iter(WidthBucketSampler(widths, batch_size=8, seed=3, textzoom_fraction=0.25,
                                      width_budget=64, start_batch=5))
    assert next(resumed) == batches[5]


def test_a_large_batch_still_trains_the_rare_widths():
    """At a GPU's batch of 512 the wide buckets hold fewer crops than a quarter batch: their
    batches are kept (from MIN_TAIL crops on), not dropped every pass."""
    from sgenet_ocr.data.pairs import MIN_TAIL

    widths = [32] * 2000 + [128] * 60 + [96] * (MIN_TAIL - 1)
    sampler = WidthBucketSampler(widths, batch_size=512, seed=1, textzoom_fraction=0.0)
    seen = {b[0][1]: len(b) for b in sampler._epoch_batches(0)}
    assert seen[128] == 60 and 96 not in seen and 32 in seen


def test_dataset_and_collate_give_tensors_in_unit_range():
    crops = [Crop(_word_image(i, h=40, w=120), f"w{i}", "test") for i in range(4)]
    dataset = PairDataset(crops, DegradeConfig())
    width = dataset.aspect_widths()[0]
    batch = collate([dataset[(i, width, 100 + i)] for i in range(4)])
    assert batch["lr"].shape == (4, 3, 16, width) and batch["hr"].shape == (4, 3, 32, 2 * width)
    assert 0.0 <= float(batch["lr"].min()) and float(batch["hr"].max()) <= 1.0
    assert batch["label"] == ["w0", "w1", "w2", "w3"]
