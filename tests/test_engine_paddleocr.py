"""The ``paddleocr`` engine plugin: offline model provisioning, the engine, and ``hook`` on a
user's own ``PaddleOCR`` object. PaddleOCR/PaddleX take ~10 s to import, hence ``slow``."""
from __future__ import annotations

import shutil
import socket

import numpy as np
import pytest

import sgenet_ocr
from engine_testkit import (blanking_restorer_plugin, check_cli_on_repo_example, check_cli_on_scene,
                            check_cli_on_synthetic_page, check_detects_scene_words,
                            check_detects_synthetic_words, check_missing_extra,
                            check_reads_real_crops, check_reads_vertical_text, in_order, normalise,
                            synthetic_page)
from sgenet_ocr.errors import ModelError, UsageError
from sgenet_ocr.geometry import perspective_crop
from sgenet_ocr.plugin_manager import PluginHost

pytest.importorskip("paddleocr", reason="the paddleocr extra is not installed")
pytestmark = pytest.mark.slow

from sgenet_ocr_paddleocr import models, offline_kwargs  # noqa: E402


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private model cache for this module (``$SGENET_CACHE``)."""
    root = tmp_path_factory.mktemp("sgenet-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SGENET_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def engine(cache):
    eng = PluginHost().engines.create("paddleocr")
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def user_ocr(cache):
    from paddleocr import PaddleOCR

    return PaddleOCR(**offline_kwargs())


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def rec_texts(results) -> list[str]:
    return [normalise(t) for t in results[0]["rec_texts"]]


# Missing extra ---------------------------------------------------------------------------

def test_missing_package_names_the_extra(monkeypatch):
    check_missing_extra(monkeypatch, "paddleocr", "paddleocr", "paddleocr")


# Offline model provisioning --------------------------------------------------------------

def test_provisioned_dirs_hold_the_wheel_models(tmp_path):
    dirs = models.provision(tmp_path)
    assert {role: name for role, (name, _) in dirs.items()} == {
        "det": "PP-OCRv4_mobile_det", "rec": "PP-OCRv4_mobile_rec"}
    for spec in (models.DET, models.REC):
        folder = dirs[spec.role][1]
        assert sorted(p.name for p in folder.iterdir()) == ["inference.onnx", "inference.yml"]
        assert models.sha256(folder / "inference.onnx") == models.sha256(models.source_path(spec))
        assert models.problems(folder, spec) == []
    # The dictionary comes from the ONNX metadata: 6623 characters + blank + space = 6625 classes.
    assert len(models.character_list(dirs["rec"][1] / "inference.onnx")) == 6623
    assert models.read_model_name(dirs["rec"][1]) == "PP-OCRv4_mobile_rec"


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "delete_model", "edit_config", "delete_config"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    spec = models.REC if "config" in damage else models.DET
    folder = models.ensure_model_dir(spec, tmp_path)
    model, config = folder / "inference.onnx", folder / "inference.yml"
    if damage == "truncate":
        model.write_bytes(model.read_bytes()[:1000])
    elif damage == "flip_byte":  # same size: only the hash can tell
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
    elif damage == "delete_model":
        model.unlink()
    elif damage == "edit_config":
        config.write_text(config.read_text(encoding="utf-8").replace("CTCLabelDecode", "Broken"))
    else:
        config.unlink()
    assert models.problems(folder, spec)
    assert models.ensure_model_dir(spec, tmp_path) == folder
    assert models.problems(folder, spec) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_models_option_accepts_the_users_own_dirs(tmp_path, cache, no_network):
    own = tmp_path / "my-models"
    for role, (_, folder) in models.provision().items():
        shutil.copytree(folder, own / role)
    eng = PluginHost().engines.create("paddleocr", models=str(own))
    try:
        page, words = synthetic_page()
        crops = in_order([perspective_crop(page, q) for _, q in words], "BGR")
        assert [normalise(t) for t, _ in eng.recognize(crops)] == [normalise(w) for w, _ in words]
    finally:
        eng.close()


def test_models_option_rejects_nonsense(tmp_path):
    with pytest.raises(UsageError, match="bundled"):
        PluginHost().engines.create("paddleocr", models=str(tmp_path / "nowhere"))
    (tmp_path / "det").mkdir()
    with pytest.raises(ModelError, match="inference.yml"):
        PluginHost().engines.create("paddleocr", models=str(tmp_path))


# The engine ------------------------------------------------------------------------------

def test_declares_bgr_version_and_preferred_restorer(engine):
    assert engine.color_order == "BGR" and engine.preferred_restorer == "bicubic"
    assert engine.version().startswith("paddleocr 3.") and "PP-OCRv4_mobile_rec" in engine.version()


def test_detects_synthetic_words(engine):
    check_detects_synthetic_words(engine)


def test_reads_synthetic_words_in_callers_order(engine):
    page, words = synthetic_page()
    crops = in_order([perspective_crop(page, q) for _, q in words], "BGR")
    readings = engine.recognize(crops[::-1])  # batches are sorted by shape inside, not outside
    assert [normalise(t) for t, _ in readings] == [normalise(w) for w, _ in words[::-1]]
    assert all(0.5 < c <= 1.0 for _, c in readings)


def test_detects_words_on_a_real_scene(engine, shared_data):
    check_detects_scene_words(engine, shared_data)


def test_reads_real_word_crops(engine, shared_data):
    check_reads_real_crops(engine, shared_data, 0.45)  # measured 0.6 on the first 40 such crops


# hook / unhook on the user's own PaddleOCR object ----------------------------------------

def test_hook_restores_inside_predict_and_ocr_and_unhook_restores_exactly(user_ocr, tmp_path):
    from sgenet_ocr_paddleocr.attach import inner_pipelines

    page, words = synthetic_page()
    bgr = in_order([page], "BGR")[0]
    before = rec_texts(user_ocr.predict(bgr))
    assert sorted(before) == sorted(normalise(w) for w, _ in words)
    (inner,) = inner_pipelines(user_ocr)
    cropper = vars(inner)["_crop_by_polys"]

    sgenet_ocr.hook(user_ocr, restorer="blank", min_height=1000,
                    plugins=[blanking_restorer_plugin(tmp_path)])
    stage = user_ocr._sgenet_ocr_stage
    assert vars(inner)["_crop_by_polys"] is not cropper
    assert rec_texts(user_ocr.predict(bgr)) == [""] * len(words)  # it read the blank crops
    assert (stage.stats.crops_seen, stage.stats.crops_restored) == (len(words), len(words))
    with pytest.warns(Warning):  # ocr() is PaddleOCR's deprecated alias: hooked all the same
        assert rec_texts(user_ocr.ocr(bgr)) == [""] * len(words)
    assert stage.stats.crops_seen == 2 * len(words)

    sgenet_ocr.unhook(user_ocr)
    assert vars(inner)["_crop_by_polys"] is cropper
    assert rec_texts(user_ocr.predict(bgr)) == before
    assert stage.stats.crops_seen == 2 * len(words)


def test_hook_restores_only_small_text(user_ocr):
    page, words = synthetic_page()
    bgr = in_order([page], "BGR")[0]
    before = user_ocr.predict(bgr)[0]
    sgenet_ocr.hook(user_ocr, restorer="bicubic", min_height=35)
    try:
        hooked = user_ocr.predict(bgr)[0]
        stage = user_ocr._sgenet_ocr_stage
    finally:
        sgenet_ocr.unhook(user_ocr)
    assert (stage.stats.crops_restored, stage.stats.crops_seen) == (2, len(words))
    assert sorted(rec_texts([hooked])) == sorted(rec_texts([before]))
    assert list(hooked["rec_scores"]) != list(before["rec_scores"])  # the 2 x2 crops read differently
    assert np.array_equal(np.asarray(hooked["rec_polys"]), np.asarray(before["rec_polys"]))


# End to end ------------------------------------------------------------------------------

def test_cli_end_to_end_offline_from_a_corrupted_cache(tmp_path, monkeypatch, capsys, no_network):
    monkeypatch.setenv("SGENET_CACHE", str(tmp_path / "cache"))
    det_dir = models.ensure_model_dir(models.DET)
    (det_dir / "inference.onnx").write_bytes(b"not a model")
    result = check_cli_on_synthetic_page("paddleocr", tmp_path, capsys)
    assert {normalise(w["text"]) for w in result["words"]} == {normalise(w) for w, _ in synthetic_page()[1]}
    assert models.problems(det_dir, models.DET) == []  # rebuilt before PaddleOCR loaded it


def test_cli_on_a_real_scene(tmp_path, cache, shared_data, capsys):
    check_cli_on_scene("paddleocr", tmp_path, shared_data, capsys)


def test_cli_on_the_repo_example(tmp_path, repo_root, cache, capsys):
    check_cli_on_repo_example("paddleocr", tmp_path, repo_root, capsys)


def test_reads_vertical_text(engine):
    check_reads_vertical_text(engine)
