"""The ``rapidocr`` engine plugin and ``sgenet_ocr.hook`` on a user's own ``RapidOCR`` object."""
from __future__ import annotations


import numpy as np
import pytest

import sgenet_ocr
from engine_testkit import (blanking_restorer_plugin, check_cli_on_repo_example, check_cli_on_scene,
                            check_cli_on_synthetic_page, check_detects_scene_words,
                            check_detects_synthetic_words, check_missing_extra,
                            check_reads_real_crops, check_reads_vertical_text, in_order, normalise,
                            synthetic_page)
from sgenet_ocr.geometry import perspective_crop
from sgenet_ocr.plugin_manager import PluginHost

PATCHED = ("maybe_add_letterbox", "get_crop_img_list", "cal_rec_boxes")


@pytest.fixture(scope="module")
def engine():
    eng = PluginHost().engines.create("rapidocr")
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def user_engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def test_missing_package_names_the_extra(monkeypatch):
    check_missing_extra(monkeypatch, "rapidocr_onnxruntime", "rapidocr", "rapidocr")


def test_declares_bgr_and_version(engine):
    assert engine.color_order == "BGR"
    assert "rapidocr-onnxruntime 1.4.4" in engine.version() and "PP-OCRv4" in engine.version()


def test_detects_synthetic_words(engine):
    check_detects_synthetic_words(engine)


def test_reads_synthetic_words_in_one_batch(engine):
    page, words = synthetic_page()
    crops = in_order([perspective_crop(page, q) for _, q in words], "BGR")
    readings = engine.recognize(crops)
    assert [normalise(t) for t, _ in readings] == [normalise(w) for w, _ in words]
    assert all(0.5 < c <= 1.0 for _, c in readings)


def test_detects_words_on_a_real_scene(engine, shared_data):
    check_detects_scene_words(engine, shared_data)


def test_reads_real_word_crops(engine, shared_data):
    check_reads_real_crops(engine, shared_data, 0.45)  # measured 0.6 on the first 40 such crops


@pytest.mark.slow
def test_hook_restores_inside_the_users_call_and_unhook_restores_exactly(user_engine, tmp_path):
    page, words = synthetic_page()
    bgr = in_order([page], "BGR")[0]
    before, _ = user_engine(bgr)
    assert sorted(normalise(r[1]) for r in before) == sorted(normalise(w) for w, _ in words)
    state = dict(vars(user_engine))

    sgenet_ocr.hook(user_engine, restorer="blank", min_height=1000,
                    plugins=[blanking_restorer_plugin(tmp_path)])
    stage = user_engine._sgenet_ocr_stage
    assert all(vars(user_engine)[name] is not state.get(name) for name in PATCHED)
    hooked, _ = user_engine(bgr)
    assert hooked is None  # blank crops read as nothing, which RapidOCR reports as None
    # One stage call for the page, with every crop: restored, as min_height is above them all.
    assert (stage.stats.crops_seen, stage.stats.crops_restored) == (len(words), len(words))

    sgenet_ocr.unhook(user_engine)
    assert vars(user_engine).keys() == state.keys()
    assert all(vars(user_engine)[k] is v for k, v in state.items())  # the very same objects
    after, _ = user_engine(bgr)
    assert after == before
    assert stage.stats.crops_seen == len(words)  # the stage is no longer called


@pytest.mark.slow
def test_hook_only_restores_small_text_and_keeps_word_boxes(user_engine, tmp_path):
    page, words = synthetic_page()
    bgr = in_order([page], "BGR")[0]
    before, _ = user_engine(bgr, return_word_box=True)
    # The small words' boxes are under 35 px tall, the large ones' over: only 2 are restored.
    sgenet_ocr.hook(user_engine, restorer="bicubic", min_height=35)
    try:
        hooked, _ = user_engine(bgr, return_word_box=True)
        stage = user_engine._sgenet_ocr_stage
    finally:
        sgenet_ocr.unhook(user_engine)
    assert (stage.stats.crops_restored, stage.stats.crops_seen) == (2, len(words))
    assert [normalise(r[1]) for r in hooked] == [normalise(r[1]) for r in before]
    # Character boxes are mapped through the unrestored crop geometry: they stay in the line.
    for line_before, line_after in zip(before, hooked):
        box = np.asarray(line_before[0])
        for char_box in line_after[3]:
            pts = np.asarray(char_box, dtype=np.float32)
            assert (pts[:, 0] >= box[:, 0].min() - 3).all() and (pts[:, 0] <= box[:, 0].max() + 3).all()


def test_hook_uses_the_engines_defaults_for_the_users_object(user_engine):
    """attach() with no restorer named: the rapidocr engine's measured preference (and its
    matched weights, when it declares some), as a Pipeline would use."""
    from sgenet_ocr_rapidocr.engine import RapidOcrEngine

    from sgenet_ocr.models import PRETRAINED

    sgenet_ocr.hook(user_engine, min_height=35)
    try:
        stage = user_engine._sgenet_ocr_stage
        assert stage.host.call("attached_engine", target=user_engine) is RapidOcrEngine
        assert stage.options.restorer == RapidOcrEngine.preferred_restorer
        sgenet_ocr.hook(user_engine, restorer="sgenet", min_height=35)
        weights = user_engine._sgenet_ocr_stage.restorer.weights_sha256
        assert weights == PRETRAINED[RapidOcrEngine.preferred_weights or "sgenet"].sha256
    finally:
        sgenet_ocr.unhook(user_engine)


def test_e2e_benchmark_gives_sgenet_the_engines_matched_weights(tmp_path):
    """The benchmark measures what the pipeline runs: SGENet with RapidOCR's own weights, unless
    the run names weights."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.e2e import BenchConfig, engine_matched_restorers
    from sgenet_ocr_rapidocr.engine import RapidOcrEngine

    from sgenet_ocr.models import PRETRAINED

    with sgenet_ocr.Pipeline(engine="rapidocr", restorer="identity") as pipe:
        shared = {"identity": None, "bicubic": None, "sgenet": None}
        config = BenchConfig(data=tmp_path, engines=["rapidocr"], restorers=list(shared), scales=[1.0])
        settings = {"engine_restorer_details": {}}
        own = engine_matched_restorers(config, pipe, shared, settings)
        assert list(own) == ["sgenet"]
        assert own["sgenet"].inner.weights_sha256 == PRETRAINED[RapidOcrEngine.preferred_weights].sha256
        assert settings["engine_restorer_details"]["rapidocr"]["sgenet"]["weights_sha256"] == \
            own["sgenet"].inner.weights_sha256
        config.restorer_options = {"sgenet": {"weights": "sgenet"}}  # named by the user: shared again
        assert engine_matched_restorers(config, pipe, shared, {"engine_restorer_details": {}}) == {}


def test_hook_refuses_unknown_objects():
    with pytest.raises(sgenet_ocr.errors.UsageError):
        sgenet_ocr.hook(object(), restorer="bicubic")


def test_pipeline_defaults_to_bicubic_the_restorer_measured_best_for_pp_ocr():
    with sgenet_ocr.Pipeline(engine="rapidocr") as pipe:
        assert pipe.engine.preferred_restorer == pipe.restorer_name == "bicubic"
    with sgenet_ocr.Pipeline(engine="rapidocr", restorer="identity") as pipe:
        assert pipe.restorer_name == "identity"  # the user's choice wins


def test_cli_end_to_end(tmp_path, capsys):
    result = check_cli_on_synthetic_page("rapidocr", tmp_path, capsys)
    assert {normalise(w["text"]) for w in result["words"]} == {normalise(w) for w, _ in synthetic_page()[1]}


@pytest.mark.slow
def test_cli_on_a_real_scene(tmp_path, shared_data, capsys):
    check_cli_on_scene("rapidocr", tmp_path, shared_data, capsys)


@pytest.mark.slow
def test_cli_on_the_repo_example(tmp_path, repo_root, capsys):
    check_cli_on_repo_example("rapidocr", tmp_path, repo_root, capsys)


def test_reads_vertical_text(engine):
    check_reads_vertical_text(engine)
