"""Engine-provided priors: an engine whose recogniser is SGENet's prior (RapidOCR, PaddleOCR),
or stands in for it (EasyOCR), hands the probabilities of its reading of the original crop to
SGENet, so the prior does not run a second time; other engines fall back to the prior.

Real engines and the shipped weights throughout; ``prior_calls`` counts the prior's forward
passes to prove when it runs and when it does not.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from engine_testkit import dejavu_font
from sgenet_ocr.engine import OcrEngine
from sgenet_ocr.imaging import resize, to_order
from sgenet_ocr.models.charset import REDUCED_CHARSET
from sgenet_ocr.models.prior_files import is_prior_model, ppocr_rec_model_path
from sgenet_ocr.pipeline import Pipeline
from sgenet_ocr.plugin_manager import PluginHost
from sgenet_ocr.prior_probs import fit_steps, prior_steps

PP_ENGINES = ("rapidocr", "paddleocr")
GUIDING_ENGINES = (*PP_ENGINES, "easyocr")
WORDS = ("Parking", "EXIT 42", "Coffee")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def host():
    return PluginHost()


@pytest.fixture(scope="module")
def engines(host):
    made = {name: host.engines.create(name) for name in GUIDING_ENGINES}
    yield made
    for engine in made.values():
        engine.close()


@pytest.fixture(scope="module")
def restorer(host):
    made = host.restorers.create("sgenet", threads=1)
    yield made
    made.close()


def small_text_page() -> np.ndarray:
    """Three words about 12 px tall on a white page: all of them small enough for SGENet."""
    page = Image.new("RGB", (640, 200), "white")
    draw = ImageDraw.Draw(page)
    for i, word in enumerate(WORDS):
        draw.text((30 + 200 * i, 80), word, font=dejavu_font(11), fill="black")
    return np.asarray(page)


def word_crops(height: int = 10) -> list[np.ndarray]:
    """Each word rendered large, then shrunk to ``height`` px: small text as a camera sees it."""
    crops = []
    for word in WORDS:
        img = Image.new("RGB", (20 + 26 * len(word), 48), "white")
        ImageDraw.Draw(img).text((8, 4), word, font=dejavu_font(34), fill="black")
        arr = np.asarray(img)
        crops.append(resize(arr, max(1, arr.shape[1] * height // arr.shape[0]), height))
    return crops


class PriorCalls:
    """Counts the forward passes of a restorer's prior (installed on the instance only)."""

    def __init__(self, restorer):
        self.prior, self.count = restorer.model.prior, 0
        self.inner = self.prior.forward
        self.prior.forward = self

    def __call__(self, *args, **kwargs):
        self.count += 1
        return self.inner(*args, **kwargs)

    def remove(self):
        del self.prior.forward


@pytest.fixture
def prior_calls():
    installed = []

    def install(restorer):
        installed.append(PriorCalls(restorer))
        return installed[-1]

    yield install
    for calls in installed:
        calls.remove()


# -- the capability --------------------------------------------------------------------------
def test_capability_default_reads_and_provides_nothing():
    class Plain(OcrEngine):
        def recognize(self, crops):
            return [("x", 0.5)] * len(crops)

    engine = Plain()
    assert engine.recognizer_prior is None
    assert engine.recognize_with_probs([np.zeros((8, 20, 3), np.uint8)] * 2, REDUCED_CHARSET) == ([("x", 0.5)] * 2, None)


@pytest.mark.parametrize("name", PP_ENGINES)
def test_pp_ocr_engines_provide_probabilities_from_their_own_pass(engines, restorer, name):
    engine = engines[name]
    assert engine.recognizer_prior == "ppocrv4_rec" == restorer.guided_by
    crops = [to_order(c, engine.color_order) for c in word_crops()]
    readings, probs = engine.recognize_with_probs(crops, restorer.prior_charset)
    assert readings == engine.recognize(crops)
    assert len(probs) == len(crops)
    for crop, (text, _), p in zip(crops, readings, probs):
        assert p.dtype == np.float32 and p.shape[1] == len(REDUCED_CHARSET)
        # the steps that cover the crop (48 px high, 8 px per step), not the batch's padding
        assert abs(len(p) - np.ceil(48 * crop.shape[1] / crop.shape[0] / 8)) <= 1
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-4)
        assert restorer.model.prior.decode(torch.from_numpy(p)[None])[0] == text.replace(" ", "")


def runs(text: str) -> str:
    """``text`` with each run of one character kept once."""
    return "".join(ch for i, ch in enumerate(text) if i == 0 or ch != text[i - 1])


def test_easyocr_probabilities_stand_in_for_the_priors(engines, restorer):
    """EasyOCR's own first pass, mapped onto the prior's charset and resampled onto its steps
    (EasyOCR has 8/3 as many): the characters it read survive as the prior would lay them out."""
    engine = engines["easyocr"]
    assert engine.recognizer_prior == restorer.guided_by
    crops = word_crops()
    readings, probs = engine.recognize_with_probs(crops, restorer.prior_charset)
    assert readings == engine.recognize(crops)
    batched_alone = [engine.recognize_with_probs([c], restorer.prior_charset)[1][0] for c in crops]
    for crop, (text, _), p, alone in zip(crops, readings, probs, batched_alone):
        assert p.dtype == np.float32 and p.shape == (prior_steps(crop.shape[1], crop.shape[0]), len(REDUCED_CHARSET))
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-4) and np.allclose(p, alone, atol=1e-5)
        decoded = restorer.model.prior.decode(torch.from_numpy(p)[None])[0]
        # resampling may merge a doubled letter ("ll" -> "l"), never invent or lose another
        assert runs(decoded) == runs(text.replace(" ", ""))


def test_resample_steps_keeps_every_spike():
    from sgenet_ocr.prior_probs import resample_steps

    fine = np.zeros((16, 4), np.float32)
    fine[:, 0] = 1.0
    for step, char in ((2, 1), (7, 2), (13, 3)):  # three characters, one spike each, amid blanks
        fine[step] = np.eye(4, dtype=np.float32)[char]
    coarse = resample_steps(fine, 6)
    assert coarse.shape == (6, 4) and np.allclose(coarse.sum(axis=1), 1.0)
    assert [int(c) for c in coarse.argmax(axis=1) if c] == [1, 2, 3]
    assert resample_steps(fine, 16) is not None and np.array_equal(resample_steps(fine, 16), fine)


@pytest.mark.parametrize("name", PP_ENGINES)
def test_turned_crops_get_no_probabilities(engines, restorer, name):
    engine = engines[name]
    tall = np.ascontiguousarray(np.rot90(word_crops(16)[0], -1))  # vertical text: the engine turns it
    _, probs = engine.recognize_with_probs([tall, word_crops()[1]], restorer.prior_charset)
    assert probs[0] is None and probs[1] is not None


def test_only_the_priors_own_model_file_counts_as_the_prior(tmp_path):
    rec = ppocr_rec_model_path()
    copy = tmp_path / "my_rec.onnx"
    shutil.copy(rec, copy)
    assert is_prior_model(rec) and is_prior_model(copy)  # by content, not by path
    det = next(rec.parent.glob("*det*.onnx"))
    assert not is_prior_model(det) and not is_prior_model(tmp_path / "missing.onnx")


def test_rapidocr_is_the_prior_only_with_the_priors_model(host, tmp_path, monkeypatch):
    copy = tmp_path / "rec.onnx"
    shutil.copy(ppocr_rec_model_path(), copy)
    assert host.engines.create("rapidocr", rec_model_path=str(copy)).recognizer_prior == "ppocrv4_rec"
    # The prior built from another file ($SGENET_PRIOR_ONNX): the engine's probabilities would mislead it.
    monkeypatch.setenv("SGENET_PRIOR_ONNX", str(next(copy.parent.glob("*.onnx")).with_name("other.onnx")))
    (tmp_path / "other.onnx").write_bytes(b"not the recogniser")
    assert host.engines.create("rapidocr").recognizer_prior is None


# -- the stage ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", GUIDING_ENGINES)
def test_stage_uses_the_engines_probabilities_and_the_prior_never_runs(name, prior_calls):
    # trust above 1: every small crop is restored, however confidently it was read
    with Pipeline(engine=name, restorer="sgenet", trust=2.0, restorer_options={"threads": 1}) as pipe:
        calls = prior_calls(pipe.restorer)
        page = pipe.run(small_text_page())
        restored = sum(w.restored for w in page.words)
        assert restored >= 2 and pipe.stage.stats.crops_guided >= 2
        assert calls.count == 0
        assert {w.text.replace(" ", "") for w in page.words} >= {"Parking", "Coffee"}


def test_engine_prior_off_runs_the_prior(prior_calls):
    with Pipeline(engine="rapidocr", restorer="sgenet", engine_prior=False, trust=2.0,
                  restorer_options={"threads": 1}) as pipe:
        calls = prior_calls(pipe.restorer)
        pipe.run(small_text_page())
        assert calls.count >= 1 and pipe.stage.stats.crops_guided == 0


def test_engines_without_the_capability_fall_back_to_the_prior(prior_calls):
    with Pipeline(engine="tesseract", restorer="sgenet", restorer_options={"threads": 1}) as pipe:
        calls = prior_calls(pipe.restorer)
        page = pipe.run(small_text_page())
        assert any(w.restored for w in page.words)
        assert calls.count >= 1 and pipe.stage.stats.crops_guided == 0


@pytest.mark.parametrize("keep, engine_prior, extra_reads", [
    ("confident", True, "restored"),   # originals read once (for keep and guidance), restored once
    ("restored", True, "restored"),    # originals of restored words still read: their probabilities guide
    ("restored", False, "none"),       # no guidance, no keep: restored words are read once, restored
])
def test_no_crop_is_read_twice(keep, engine_prior, extra_reads):
    with Pipeline(engine="rapidocr", restorer="sgenet", keep=keep, engine_prior=engine_prior, trust=2.0,
                  restorer_options={"threads": 1}) as pipe:
        read = []
        for method in ("recognize", "recognize_with_probs"):
            inner = getattr(pipe.engine, method)

            def counting(crops, *args, _inner=inner):
                read.extend(pixels.tobytes() for pixels in crops)
                return _inner(crops, *args)

            setattr(pipe.engine, method, counting)
        page = pipe.run(small_text_page())
        restored = sum(w.restored for w in page.words)
        assert restored >= 2
        assert len(read) == len(set(read))  # no crop (original or restored) twice
        assert len(read) == len(page.words) + (restored if extra_reads == "restored" else 0)


# -- parity --------------------------------------------------------------------------------
def mean_diff(a, b) -> float:
    return float(np.mean([np.abs(x.astype(np.int16) - y.astype(np.int16)).mean() for x, y in zip(a, b)]))


@pytest.mark.parametrize("name", PP_ENGINES)
def test_parity_with_the_prior(engines, restorer, name):
    """Same words, SGENet guided by its prior (reading the 16 px crop) or by the engine (reading
    the original crop): the outputs are near-identical, while a wrong guidance (all blank)
    visibly changes them, so the comparison can tell."""
    crops = word_crops(10)
    by_prior = restorer.restore(crops)
    _, probs = engines[name].recognize_with_probs([to_order(c, "BGR") for c in crops], restorer.prior_charset)
    by_engine = restorer.restore(crops, prior_probs=probs)
    blank = [np.eye(len(REDUCED_CHARSET), dtype=np.float32)[[0] * len(p)] for p in probs]
    by_blank = restorer.restore(crops, prior_probs=blank)
    assert max(int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) for a, b in zip(by_prior, by_engine)) <= 8
    assert mean_diff(by_prior, by_engine) < 0.25 * mean_diff(by_prior, by_blank)
    readings = engines[name].recognize([to_order(c, "BGR") for c in by_engine])
    assert [t for t, _ in readings] == [t for t, _ in engines[name].recognize([to_order(c, "BGR") for c in by_prior])]


@pytest.mark.parametrize("width", [16, 48, 64, 112, 256, 512])
def test_prior_steps_match_the_networks_output(restorer, width):
    prior = restorer.model.prior
    with torch.no_grad():
        measured = prior(torch.rand(1, 3, 16, width)).shape[1]
    assert prior_steps(width) == prior.output_steps(16, width) == measured


def test_fit_steps_cuts_or_pads_with_certain_blanks():
    probs = np.full((5, 4), 0.25, np.float32)
    assert fit_steps(probs, 3).shape == (3, 4)
    padded = fit_steps(probs, 7)
    assert padded.shape == (7, 4) and (padded[5:, 0] == 1).all() and (padded[5:, 1:] == 0).all()


# -- the trusted confidence ------------------------------------------------------------------
def test_engines_declare_their_measured_trusted_confidence(host):
    from sgenet_ocr.engine import OcrEngine

    assert OcrEngine.trusted_confidence is None
    assert host.engines.create("tesseract").trusted_confidence is None  # every threshold cost accuracy
    assert host.engines.create("rapidocr").trusted_confidence == 0.8


@pytest.mark.parametrize("trust, restored_at_most", [(None, 0), (2.0, 3)])
def test_trusted_readings_are_not_restored(trust, restored_at_most, prior_calls):
    """The synthetic words read at ~0.99: with RapidOCR's trusted confidence (0.8) none is
    restored and the prior and the restorer never run; ``trust`` above 1 restores them all."""
    with Pipeline(engine="rapidocr", restorer="sgenet", trust=trust, restorer_options={"threads": 1}) as pipe:
        calls = prior_calls(pipe.restorer)
        page = pipe.run(small_text_page())
        restored = sum(w.restored for w in page.words)
        if trust is None:
            assert pipe.policy.trust == 0.8 and restored == 0 and pipe.stage.stats.crops_restored == 0
            assert all(w.confidence >= 0.8 for w in page.words)
        else:
            assert 2 <= restored <= restored_at_most and pipe.stage.stats.crops_guided == restored
        assert calls.count == 0
