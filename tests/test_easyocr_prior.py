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


def test_its_lstm_passes_gradients_in_fp32_under_bf16_autocast(words):
    """The text losses read through english_g2 under the GPU trainer's bf16 autocast: its BiLSTM
    must stay in fp32 (on CUDA autocast would run it in fp16, where gradients underflow)."""
    from sgenet_ocr.data.pairs import to_tensor
    from sgenet_ocr.models.prior import create_reader

    reader = create_reader("easyocr_g2")
    seen = []
    for module in reader.modules():
        if isinstance(module, torch.nn.LSTM):
            module.register_forward_pre_hook(lambda _m, args: seen.append(args[0].dtype))
    x = torch.cat([to_tensor(w[:, :48])[None] for w in words[:4]]).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        probs = reader(x)
    assert seen and set(seen) == {torch.float32}
    probs.max(-1).values.sum().backward()
    assert float(x.grad.abs().sum()) > 0


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


def test_easyocrs_confidence_and_contrast_stretch_follow_easyocr():
    from easyocr.recognition import adjust_contrast_grey, custom_mean

    from sgenet_ocr_easyocr.prior import confidence, stretch_contrast

    probs = torch.tensor([[[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.3, 0.2, 0.5]],  # steps 1 and 3 read
                          [[0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [0.7, 0.2, 0.1]]])  # all blank
    assert torch.allclose(confidence(probs), torch.tensor([float(custom_mean(np.array([0.9, 0.5]))), 0.0]))
    rng = np.random.default_rng(0)
    for low, high in ((90, 130), (10, 240)):  # a grey, flat line (stretched) and a contrasty one (kept)
        grey = rng.integers(low, high, size=(64, 150)).astype(np.uint8)
        theirs = adjust_contrast_grey(grey, target=0.5).astype(float)
        ours = stretch_contrast(torch.from_numpy(grey).float()[None, None] / 255)[0, 0].numpy() * 255
        assert np.abs(ours - theirs).max() <= 1.0  # easyocr truncates to uint8 where it stretches
        assert np.array_equal(theirs, grey) == (low == 10)  # the flat line was stretched, the other not


@pytest.mark.slow
@pytest.mark.needs_data
def test_the_training_reader_follows_the_engines_second_pass(shared_data):
    """Small words enlarged (what a restorer hands EasyOCR): most are read with low confidence,
    so the engine's contrast-stretched second pass decides; the reader the losses use does it too
    and gives the engine's text far more often than the first pass alone."""
    from engine_testkit import dev_word_crops, shrunk_and_enlarged
    from sgenet_ocr.data.pairs import to_tensor
    from sgenet_ocr.models.prior import create_prior, create_reader
    from sgenet_ocr_easyocr.engine import EasyOcrEngine

    crops = [shrunk_and_enlarged(rgb, 10, 32) for rgb in dev_word_crops(shared_data, 60, step=7)]
    engine_texts = [t for t, _ in EasyOcrEngine().recognize(crops)]
    same = {}
    for name, reader in (("reader", create_reader("easyocr_g2")), ("first pass", create_prior("easyocr_g2"))):
        with torch.no_grad():
            texts = [reader.decode(reader(to_tensor(c)[None]))[0] for c in crops]
        same[name] = sum(a == b for a, b in zip(texts, engine_texts))
    assert same["reader"] >= 0.65 * len(crops) and same["reader"] > same["first pass"] + 0.15 * len(crops), same
