"""Custom weights: unverifiable files are announced, $SGENET_WEIGHTS picks them, attach checks
the object's type before loading anything."""
from __future__ import annotations

import shutil
import warnings

import pytest

import sgenet_ocr
from sgenet_ocr.errors import ModelError, UnverifiedWeightsWarning, UsageError
from sgenet_ocr.models import PRETRAINED, resolve_weights


@pytest.fixture
def shipped():
    path = PRETRAINED["sgenet"].weights_path
    if not path.is_file():
        pytest.skip("no shipped weights")
    return path


def test_weights_without_a_sidecar_warn_that_they_are_unverified(tmp_path, shipped):
    lone = tmp_path / "mine.safetensors"
    shutil.copy(shipped, lone)
    with pytest.warns(UnverifiedWeightsWarning, match=r"mine.safetensors has no sidecar .* integrity cannot be checked"):
        resolve_weights(lone)
    shutil.copy(shipped.with_suffix(".json"), tmp_path / "mine.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_weights(lone)  # with its sidecar: verified, no warning


def test_the_cli_prints_the_warning_as_one_line(tmp_path, shipped, capsys):
    from sgenet_ocr.cli import run_cli

    lone = tmp_path / "mine.safetensors"
    shutil.copy(shipped, lone)
    assert run_cli("x", lambda argv: resolve_weights(lone) and 0) == 0
    err = capsys.readouterr().err
    assert err.startswith("sgenet-ocr x: warning: weights file ") and len(err.splitlines()) == 1, err


def test_sgenet_weights_environment_variable_is_the_default_weights(tmp_path, shipped, monkeypatch):
    from sgenet_ocr.plugin_manager import PluginHost

    host = PluginHost(entry_points=False)
    monkeypatch.setenv("SGENET_WEIGHTS", str(tmp_path / "missing.safetensors"))
    for name in ("sgenet", "sgenet-onnx"):
        with pytest.raises(ModelError, match="weights file not found: .*missing.safetensors"):
            host.restorers.create(name)
    mine = tmp_path / "mine.safetensors"
    shutil.copy(shipped, mine)
    shutil.copy(shipped.with_suffix(".json"), tmp_path / "mine.json")
    monkeypatch.setenv("SGENET_WEIGHTS", str(mine))
    restorer = host.restorers.create("sgenet")
    assert restorer.weights_source == str(mine)
    # weights= still wins over the environment
    assert host.restorers.create("sgenet", weights="sgenet").weights_source.startswith("shipped:")


def test_attach_rejects_an_unknown_type_before_loading_the_restorer(monkeypatch):
    import sys

    attach_module = sys.modules["sgenet_ocr.attach"]  # the package's name ``attach`` is the function

    def no_build(*a, **k):
        raise AssertionError("the restorer was built before the type was checked")

    monkeypatch.setattr(attach_module, "build_stage", no_build)
    with pytest.raises(UsageError, match=r"no plugin knows how to attach the stage to a builtins.object; "
                                         r"supported: .*easyocr.Reader"):
        sgenet_ocr.attach(object(), restorer="sgenet")
