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


def _weights(tmp_path, correction_std: float) -> str:
    torch.manual_seed(2)
    model = create_model("sgenet", base="crop")
    torch.nn.init.normal_(model.to_rgb.weight, std=correction_std)
    path = tmp_path / f"crop_{correction_std}.safetensors"
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


def test_the_restorer_adds_the_correction_to_each_crop_enlarged_once(tmp_path):
    """With the correction zeroed, every small crop comes out as ``enlarge_once`` of the crop
    itself (not of its 16 px input), whatever bucket or padding it shared; tall crops keep
    the bicubic path."""
    restorer = SgenetRestorer(_weights(tmp_path, 0.0), batch_size=3, threads=1)
    crops = _crops()
    for crop, out in zip(crops, restorer.restore(crops)):
        h, w = crop.shape[:2]
        if h > 16:
            assert out.shape == (2 * h, 2 * w, 3)
            continue
        want = enlarge_once(crop, 2 * lr_width(h, w, 16), 32)
        assert out.shape == want.shape
        assert np.abs(out.astype(int) - want.astype(int)).max() <= 1


def test_onnx_export_takes_the_base_and_matches_torch(tmp_path):
    weights = _weights(tmp_path, 0.02)  # a visible correction: the whole graph is compared
    crops = _crops()
    torch_out = SgenetRestorer(weights, threads=1).restore(crops)
    onnx = SgenetOnnxRestorer(weights, cache_dir=tmp_path / "cache", threads=1)
    assert onnx.takes_base
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
