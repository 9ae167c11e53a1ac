"""``base="crop"`` weights: the correction is added to the crop enlarged once, not to a bicubic
x2 of the 16 px input. The model's contract, the restorers (torch and ONNX) that make the base,
and the training pairs that carry it (a training step on it: ``test_train.py``)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sgenet_ocr.data.crops import Crop
from sgenet_ocr.data.degrade import DegradeConfig, aspect_lr_width
from sgenet_ocr.data.pairs import PairDataset, collate
from sgenet_ocr.imaging import enlarge_once
from sgenet_ocr.models import create_model, save_weights
from sgenet_ocr.restorers.bucketing import lr_width
from sgenet_ocr.restorers.onnx_restorer import SgenetOnnxRestorer
from sgenet_ocr.restorers.sgenet_restorer import SgenetRestorer


def _crops() -> list[np.ndarray]:
    """Small striped 'words' of several sizes, one too tall for the model (bicubic path)."""
    rng = np.random.default_rng(5)
    crops = []
    for h, w in [(7, 30), (9, 41), (12, 50), (14, 23), (11, 300), (24, 60)]:
        img = np.full((h, w, 3), 210, np.uint8)
        img[:, ::4] = rng.integers(0, 90, (h, len(range(0, w, 4)), 3), dtype=np.uint8)
        crops.append(img)
    return crops


def _weights(tmp_path, correction_std: float, output_scale: int = 0) -> str:
    torch.manual_seed(2)
    model = create_model("sgenet", base="crop", output_scale=output_scale)
    torch.nn.init.normal_(model.to_rgb.weight, std=correction_std)
    path = tmp_path / f"crop_{correction_std}_{output_scale}.safetensors"
    save_weights(model, path, {"note": "random init, crop base"})
    return str(path)


def test_crop_base_weights_need_their_base_and_only_add_a_correction():
    model = create_model("sgenet", base="crop")
    torch.nn.init.zeros_(model.to_rgb.weight)
    lr, base = torch.rand(2, 3, 16, 40), torch.rand(2, 3, 32, 80)
    with torch.no_grad():
        assert torch.allclose(model(lr, base=base), base)  # zero correction: the base itself
        with pytest.raises(ValueError, match="need base"):
            model(lr)
        with pytest.raises(ValueError, match="need base"):
            model(lr, base=base[..., :78])
    assert model.takes_base and not create_model("sgenet").takes_base
    with pytest.raises(ValueError, match="bicubic"):
        create_model("sgenet")(lr, base=base)
    with pytest.raises(ValueError, match="base must be"):
        create_model("sgenet", base="lanczos")


def test_an_output_scale_resizes_the_correction_to_a_base_of_that_size():
    model = create_model("sgenet", base="crop", output_scale=3)
    lr, base = torch.rand(2, 3, 16, 40), torch.rand(2, 3, 48, 120)
    with torch.no_grad():
        out = model(lr, base=base)
        assert out.shape == base.shape and not torch.allclose(out, base)  # a small correction
        torch.nn.init.zeros_(model.to_rgb.weight)
        assert torch.allclose(model(lr, base=base), base)
        with pytest.raises(ValueError, match=r"need base \(2, 3, 48, 120\)"):
            model(lr, base=torch.rand(2, 3, 32, 80))
    assert model.output_scale == 3 and create_model("sgenet").output_scale == 2
    with pytest.raises(ValueError, match="output_scale needs"):
        create_model("sgenet", output_scale=3)  # a bicubic base is always x2


@pytest.mark.parametrize("output_scale", [0, 3])
def test_the_restorer_adds_the_correction_to_each_crop_enlarged_once(tmp_path, output_scale):
    """With the correction zeroed, every small crop comes out as ``enlarge_once`` of the crop
    itself (not of its 16 px input) at the output size, whatever bucket or padding it shared;
    tall crops keep the bicubic path."""
    restorer = SgenetRestorer(_weights(tmp_path, 0.0, output_scale), batch_size=3, threads=1)
    scale = output_scale or 2
    crops = _crops()
    for crop, out in zip(crops, restorer.restore(crops)):
        h, w = crop.shape[:2]
        if h > 16:
            assert out.shape == (scale * h, scale * w, 3)
            continue
        want = enlarge_once(crop, scale * lr_width(h, w, 16), 16 * scale)
        assert out.shape == want.shape
        assert np.abs(out.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.parametrize("output_scale", [0, 3])
def test_onnx_export_takes_the_base_and_matches_torch(tmp_path, output_scale):
    weights = _weights(tmp_path, 0.02, output_scale)  # a visible correction: the whole graph is compared
    crops = _crops()
    torch_out = SgenetRestorer(weights, threads=1).restore(crops)
    onnx = SgenetOnnxRestorer(weights, cache_dir=tmp_path / "cache", threads=1)
    assert onnx.takes_base and onnx.scale == (output_scale or 2)
    for a, b in zip(torch_out, onnx.restore(crops)):
        assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_training_pairs_carry_the_native_word_enlarged_once():
    image = np.full((40, 120, 3), 200, np.uint8)
    image[8:32, 10:110:7] = 20
    cfg = DegradeConfig()
    dataset = PairDataset([Crop(image, "word", "t")], cfg, keep_native=True, base="crop")
    width = aspect_lr_width(40, 120, cfg)
    item = dataset[(0, width, 3)]
    assert item["base"].shape == item["hr"].shape == (3, 32, 2 * width)
    native = item["native"]
    assert native.shape[0] < 16  # the small damaged word, not the 16 px input
    want = enlarge_once(native, 2 * width, 32)
    assert torch.allclose(item["base"], torch.from_numpy(want).permute(2, 0, 1).float() / 255)
    assert collate([item, item])["base"].shape == (2, 3, 32, 2 * width)
    assert "base" not in PairDataset([Crop(image, "word", "t")], cfg)[(0, width, 3)]


def test_pairs_of_an_output_scale_carry_the_base_at_that_size():
    image = np.full((40, 120, 3), 200, np.uint8)
    image[8:32, 10:110:7] = 20
    cfg = DegradeConfig()
    width = aspect_lr_width(40, 120, cfg)
    item = PairDataset([Crop(image, "word", "t")], cfg, keep_native=True, base="crop", output_scale=3)[(0, width, 3)]
    assert item["base"].shape == (3, 48, 3 * width) and item["hr"].shape == (3, 32, 2 * width)
    want = enlarge_once(item["native"], 3 * width, 48)
    assert torch.allclose(item["base"], torch.from_numpy(want).permute(2, 0, 1).float() / 255)


def test_enlarge_once_keeps_the_aspect_the_recogniser_would_give_the_crop():
    """At PP-OCRv4's 48 px the base is the crop resized as PP-OCRv4 resizes it (width
    ceil(48 w / h)), fitted to the model's output width by repeating the last column; a crop
    too long for the model is squeezed to that width rather than cut."""
    import math

    import cv2

    crop = _crops()[0]  # 7 x 30: PP-OCRv4 width 206, model output width 3 * 69 = 207
    width = 3 * lr_width(7, 30, 16)
    own = math.ceil(48 * 30 / 7)
    base = enlarge_once(crop, width, 48)
    assert base.shape == (48, width, 3) and own < width
    assert np.array_equal(base[:, :own], cv2.resize(crop, (own, 48), interpolation=cv2.INTER_LINEAR))
    assert np.array_equal(base[:, own:], base[:, own - 1:own])
    long = np.tile(crop, (1, 20, 1))  # 7 x 600: the model's input is clamped to 512 px
    width = 3 * lr_width(7, 600, 16)
    assert np.array_equal(enlarge_once(long, width, 48), cv2.resize(long, (width, 48), interpolation=cv2.INTER_LINEAR))
