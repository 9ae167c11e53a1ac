"""The ``sgenet`` restorer on real word crops (random-init weights saved to a temp file)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import sgenet_ocr.models as zoo
from sgenet_ocr.errors import ModelError, UsageError
from sgenet_ocr.models import create_model, save_weights
from sgenet_ocr.plugin_manager import PluginHost
from sgenet_ocr.restorers import BicubicRestorer
from sgenet_ocr.restorers.bucketing import lr_width
from sgenet_ocr.stage import RestorationStage


@pytest.fixture(scope="module")
def host():
    return PluginHost(entry_points=False)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("sgenet") / "random.safetensors"
    save_weights(create_model("sgenet"), path, {"note": "random init, for tests"})
    return path


@pytest.fixture(scope="module")
def restorer(host, weights):
    return host.restorers.create("sgenet", weights=str(weights), batch_size=4)


@pytest.fixture(scope="module")
def crops(shared_data):
    """Real word crops, every other one shrunk 3x so that both small text (SR) and tall text
    (bicubic) are in the set."""
    folder = shared_data / "ic15_words_dev" / "images"
    out = []
    for k, i in enumerate(range(1, 240, 17)):
        img = Image.open(folder / f"word_{i}.png").convert("RGB")
        if k % 2 == 0:
            img = img.resize((max(1, img.width // 3), max(1, img.height // 3)), Image.Resampling.BOX)
        out.append(np.asarray(img))
    return out


def test_registered_as_a_builtin(host):
    assert "sgenet" in host.restorers.names()
    assert host.restorers.owner("sgenet") == "sgenet_ocr.builtin"


def test_without_weights_the_factory_says_what_to_do(host, tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelError, match="bicubic"):
        host.restorers.create("sgenet")


def test_unavailable_cuda_is_a_usage_error(host, weights):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(UsageError, match="CUDA"):
        host.restorers.create("sgenet", weights=str(weights), device="cuda")


def test_small_crops_are_super_resolved_and_tall_ones_get_bicubic(restorer, crops):
    originals = [c.copy() for c in crops]
    out = restorer.restore(crops)
    assert len(out) == len(crops)
    small = [c.shape[0] <= 16 for c in crops]
    assert any(small) and not all(small)
    bicubic = BicubicRestorer().restore(crops)
    for crop, restored, original, is_small, plain in zip(crops, out, originals, small, bicubic):
        assert np.array_equal(crop, original)  # inputs are not modified
        assert restored.dtype == np.uint8 and restored.flags.c_contiguous
        if is_small:
            assert restored.shape == (32, 2 * lr_width(*crop.shape[:2], 16), 3)
            assert restored.shape != plain.shape or not np.array_equal(restored, plain)
        else:
            assert np.array_equal(restored, plain)


def test_output_is_deterministic_and_independent_of_batching(restorer, crops):
    first = restorer.restore(crops)
    assert all(np.array_equal(a, b) for a, b in zip(first, restorer.restore(crops)))
    # Other batch-mates change only the float summation order: at most one grey level.
    again = restorer.restore(crops[::-1])[::-1]
    alone = [restorer.restore([c])[0] for c in crops[:4]]
    for a, b in zip(first, again + alone):
        assert a.shape == b.shape and np.abs(a.astype(int) - b).max() <= 1


def test_extreme_aspect_ratios_are_clamped(restorer):
    rng = np.random.default_rng(0)
    tall = rng.integers(0, 256, (16, 3, 3), dtype=np.uint8)
    wide = rng.integers(0, 256, (10, 900, 3), dtype=np.uint8)
    out_tall, out_wide = restorer.restore([tall, wide])
    assert out_tall.shape == (32, 32, 3) and out_wide.shape == (32, 1024, 3)


def test_stage_leaves_tall_crops_untouched(host, restorer, crops):
    stage = RestorationStage(host, restorer, SimpleNamespace(min_height=24))
    out, flags = stage.apply(crops)
    assert flags == [c.shape[0] < 24 for c in crops] and any(flags) and not all(flags)
    for crop, result, flag in zip(crops, out, flags):
        if flag:
            assert result.shape[0] == (32 if crop.shape[0] <= 16 else 2 * crop.shape[0])
        else:
            assert result is crop


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(host, weights, crops):
    gpu = host.restorers.create("sgenet", weights=str(weights), device="cuda")
    cpu = host.restorers.create("sgenet", weights=str(weights), device="cpu")
    for a, b in zip(gpu.restore(crops[:6]), cpu.restore(crops[:6])):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
