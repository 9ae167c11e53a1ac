"""The PP-OCRv4 semantic prior: parity with onnxruntime, RapidOCR preprocessing, charset, CTC."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine_testkit import dev_word_crops, shrunk_and_enlarged
from sgenet_ocr.models.charset import REDUCED_CHARS
from sgenet_ocr.models.prior import create_prior


@pytest.fixture(scope="module")
def prior():
    return create_prior("ppocrv4_rec")


@pytest.fixture(scope="module")
def padded_prior():
    """RapidOCR's exact recipe, right padding to 320 px included."""
    return create_prior("ppocrv4_rec", min_width=320)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255


def test_reduced_charset(prior):
    assert prior.charset[0] == "<blank>" and "".join(prior.charset[1:]) == REDUCED_CHARS
    assert len(prior.charset) == 95 and len(prior.full_charset) == 6625


def test_parity_with_onnxruntime_on_dev_word_crops(prior, shared_data):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(prior.onnx_path, options, providers=["CPUExecutionProvider"])
    worst = 0.0
    for rgb in dev_word_crops(shared_data, 4):
        x = prior.preprocess(to_tensor(rgb))
        with torch.no_grad():
            ours = prior.raw_forward(x).numpy()
        ref = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        assert ours.shape == ref.shape
        worst = max(worst, float(np.abs(ours - ref).max()))
    assert worst < 1e-4


def test_preprocessing_matches_rapidocr(padded_prior, shared_data):
    from rapidocr_onnxruntime.ch_ppocr_rec.text_recognize import TextRecognizer

    for rgb in dev_word_crops(shared_data, 5):
        ratio = max(320 / 48, rgb.shape[1] / rgb.shape[0])
        # RapidOCR gets BGR images; its own resize_norm_img does not touch self
        theirs = TextRecognizer.resize_norm_img(
            type("Cfg", (), {"rec_image_shape": [3, 48, 320]})(), rgb[:, :, ::-1].copy(), ratio)
        ours = padded_prior.preprocess(to_tensor(rgb))[0].numpy()
        assert ours.shape[1] == 48
        width = min(ours.shape[2], theirs.shape[2])
        assert np.abs(ours[:, :, :width] - theirs[:, :, :width]).mean() < 0.03


@pytest.mark.slow
def test_reads_real_words_like_rapidocr(padded_prior, shared_data):
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    crops = dev_word_crops(shared_data, 12, step=41)
    agree = total = 0
    for rgb in crops:
        (theirs,), _ = engine.text_rec(rgb[:, :, ::-1].copy())
        text = theirs[0]
        if not text or not all(ch in REDUCED_CHARS for ch in text):
            continue
        with torch.no_grad():
            ours = padded_prior.decode(padded_prior(to_tensor(rgb)))[0]
        total += 1
        agree += ours == text
    # cv2 and torch bilinear resizing differ by rounding, which can flip a hard character
    assert total >= 8 and agree >= total - 1


def test_probabilities_and_gradient_to_the_input(prior):
    x = torch.rand(2, 3, 32, 100, requires_grad=True)
    probs = prior(x)
    assert probs.shape[0] == 2 and probs.shape[2] == 95
    assert torch.allclose(probs.sum(-1), torch.ones(probs.shape[:2]), atol=1e-5)
    probs[..., 1:].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in prior.parameters()) and not prior.training


def test_greedy_ctc_decoding(prior):
    a, b = prior.charset.index("a"), prior.charset.index("b")
    steps = [a, a, 0, a, b, b, 0]
    probs = torch.nn.functional.one_hot(torch.tensor([steps]), num_classes=95).float()
    assert prior.decode(probs) == ["aab"]


def test_building_the_prior_leaves_the_global_rng_alone():
    """Otherwise a training run's initial weights would depend on whether the prior was already
    converted in this process (the first Trainer and the second would start apart)."""
    from sgenet_ocr.models.prior import _converted_ppocr, create_prior

    _converted_ppocr.cache_clear()
    torch.manual_seed(0)
    create_prior("ppocrv4_rec")
    after_building = torch.rand(3)
    torch.manual_seed(0)
    assert torch.equal(after_building, torch.rand(3))


@pytest.mark.slow
def test_the_training_reader_reads_small_enlarged_crops_like_rapidocr(prior, shared_data):
    """Losses and validation read with ``create_reader``: on small words enlarged to 48 px (what
    a restorer hands the engine) it must give RapidOCR's reading, which the unpadded guidance
    prior often does not: a loss through that one trained for a reader no engine runs."""
    from rapidocr_onnxruntime import RapidOCR

    from sgenet_ocr.models.prior import create_reader

    reader, engine = create_reader("ppocrv4_rec"), RapidOCR()
    agree = unpadded = total = 0
    for rgb in dev_word_crops(shared_data, 30, step=13):
        enlarged = shrunk_and_enlarged(rgb, 10, 48)
        (theirs,), _ = engine.text_rec(enlarged[:, :, ::-1].copy())
        if not all(ch in REDUCED_CHARS for ch in theirs[0]):
            continue
        with torch.no_grad():
            x = to_tensor(enlarged)
            ours, plain = reader.decode(reader(x))[0], prior.decode(prior(x))[0]
        total += 1
        agree += ours == theirs[0]
        unpadded += plain == theirs[0]
    assert total >= 20 and agree >= total - 1
    assert unpadded < agree  # why the reader pads: the padding changes what the network reads
