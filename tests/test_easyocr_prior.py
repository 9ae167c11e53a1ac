"""EasyOCR's recogniser as a training prior reads like the easyocr engine and passes gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("easyocr")


@pytest.fixture(scope="module")
def words():
    from sgenet_ocr.data.synth import render_word

    rng = np.random.default_rng(3)
    out = []
    for text in ["OPEN", "Exit", "parking", "SALE", "1984", "Coffee", "STOP", "hotel", "Bank", "menu",
                 "NORTH", "street", "Taxi", "22B", "Pizza", "closed", "WAY", "market", "Bus", "ticket"]:
        img = Image.fromarray(render_word(text, rng))
        out.append(np.asarray(img.resize((max(8, img.width * 24 // img.height), 24))))  # small print
    return out


@pytest.mark.slow
def test_reads_like_the_engine_and_is_differentiable(words):
    from sgenet_ocr.data.pairs import to_tensor
    from sgenet_ocr.models.prior import create_prior
    from sgenet_ocr_easyocr.engine import EasyOcrEngine

    prior = create_prior("easyocr_g2")
    engine_texts = [t for t, _ in EasyOcrEngine().recognize(words)]
    prior_texts = [prior.decode(prior(to_tensor(w)[None]))[0] for w in words]
    same = sum(a.strip() == b.strip() for a, b in zip(prior_texts, engine_texts))
    assert same >= 0.85 * len(words), list(zip(prior_texts, engine_texts))
    from sgenet_ocr.models.charset import BLANK

    assert prior.charset[0] == BLANK and "a" in prior.charset and "7" in prior.charset

    x = to_tensor(words[0])[None].requires_grad_(True)
    prior(x).max(-1).values.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert all(p.grad is None for p in prior.parameters())  # frozen: only the input gets gradients


def test_built_from_files_as_the_engine_builds_it():
    """No Reader: easyocr's network class and weights file give the engine's very recogniser."""
    from sgenet_ocr.models.charset import BLANK
    from sgenet_ocr_easyocr.engine import load_reader
    from sgenet_ocr_easyocr.prior import load_english_g2

    net, charset = load_english_g2()
    reader = load_reader(("en",), "cpu", quantize=False)
    assert charset == [BLANK, *reader.character]
    ours, theirs = net.state_dict(), reader.recognizer.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_unknown_recognisers_are_refused():
    from sgenet_ocr.errors import ModelError
    from sgenet_ocr.models.prior import create_prior

    with pytest.raises(ModelError, match="unknown semantic prior"):
        create_prior("no_such_reader")
