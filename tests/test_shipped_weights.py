"""The weights committed in the package load, are checked, and make sgenet the default restorer."""
from __future__ import annotations

import json

import numpy as np
import torch

from sgenet_ocr.models import PRETRAINED, create_model, has_pretrained
from sgenet_ocr.stage import default_restorer


def test_shipped_weights_load_and_are_the_default():
    assert has_pretrained("sgenet")
    assert default_restorer() == "sgenet"
    sidecar = json.loads(PRETRAINED["sgenet"].weights_path.with_suffix(".json").read_text())
    assert len(sidecar["sha256"]) == 64
    model = create_model("sgenet", pretrained=True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 0 < trainable < 1_000_000


def test_trained_model_is_not_plain_bicubic():
    model = create_model("sgenet", pretrained=True)
    rng = np.random.default_rng(0)
    lr = torch.from_numpy(rng.random((2, 3, 16, 64), dtype=np.float32))
    with torch.no_grad():
        sr = model(lr)
    bicubic = torch.nn.functional.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False).clamp(0, 1)
    assert sr.shape == (2, 3, 32, 128)
    assert (sr - bicubic).abs().mean() > 1e-3  # the learned correction is really there
