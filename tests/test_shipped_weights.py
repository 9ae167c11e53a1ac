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


def test_every_named_weights_file_is_shipped_verified_and_trained():
    """Each PRETRAINED entry (generic and engine-matched) has its file and sha256 sidecar, loads
    into the same architecture, and differs from the generic weights (a real fine-tune)."""
    generic = create_model("sgenet", pretrained=True).state_dict()
    for name in PRETRAINED:
        assert has_pretrained(name), name
        model = create_model("sgenet", pretrained=name)
        side = json.loads(PRETRAINED[name].weights_path.with_suffix(".json").read_text())
        assert side["metadata"]["steps"] > 0
        if name != "sgenet":  # fine-tuned from the generic weights, directly or through earlier stages
            ancestors, parent = [], side["metadata"].get("init_from")
            while parent:
                ancestors.append(parent["sha256"])
                parent = parent.get("init_from")
            assert PRETRAINED["sgenet"].sha256 in ancestors, name
            assert any(not torch.equal(v, generic[k]) for k, v in model.state_dict().items() if k in generic)


def test_engines_pick_their_matched_weights_and_the_user_can_name_others():
    from sgenet_ocr import Pipeline

    for engine, matched in (("rapidocr", "sgenet-ppocr"), ("paddleocr", "sgenet-ppocr"),
                            ("easyocr", "sgenet-easyocr")):
        with Pipeline(engine=engine, restorer="sgenet") as pipe:
            assert pipe.engine.preferred_weights == matched
            assert pipe.stage.restorer.weights_sha256 == PRETRAINED[matched].sha256
    with Pipeline(engine="easyocr") as pipe:  # its default restorer, with its weights
        assert pipe.restorer_name.startswith("sgenet")
        assert pipe.stage.restorer.weights_sha256 == PRETRAINED["sgenet-easyocr"].sha256
    with Pipeline(engine="rapidocr", restorer="sgenet", restorer_options={"weights": "sgenet"}) as pipe:
        assert pipe.stage.restorer.weights_sha256 == PRETRAINED["sgenet"].sha256
    with Pipeline(engine="tesseract", restorer="sgenet") as pipe:  # no matched weights: the generic ones
        assert pipe.stage.restorer.weights_sha256 == PRETRAINED["sgenet"].sha256
