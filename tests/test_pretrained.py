"""resolve_weights: the one answer to "which weights", with the file verified against its sha256."""
from __future__ import annotations

import json

import pytest

import sgenet_ocr.models as zoo
from sgenet_ocr.errors import ModelError
from sgenet_ocr.models import PRETRAINED, ResolvedWeights, create_model, resolve_weights, save_weights
from sgenet_ocr.models.weights import sha256_of


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "one_block.safetensors"
    sha = save_weights(create_model("sgenet", num_blocks=1), path, {"note": "test"})
    return path, sha


def test_shipped_weights_by_true_none_or_name():
    for ask in (True, None, "sgenet"):
        resolved = resolve_weights(ask)
        assert resolved.name == "sgenet" and resolved.path == PRETRAINED["sgenet"].weights_path
        assert resolved.sha256 == json.loads(resolved.path.with_suffix(".json").read_text())["sha256"]
        assert resolved.source == f"shipped: {resolved.path.name}" and resolved.config["scale"] == 2


def test_a_path_gives_file_config_and_sha(saved):
    path, sha = saved
    resolved = resolve_weights(str(path))
    assert resolved == ResolvedWeights(path, sha, resolved.config, None)
    assert resolved.config["num_blocks"] == 1 and resolved.source == str(path)
    assert len(create_model("sgenet", pretrained=resolved).blocks) == 1


def test_a_file_without_sidecar_is_hashed(saved, tmp_path):
    path, sha = saved
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes(path.read_bytes())
    assert resolve_weights(bare).sha256 == sha == sha256_of(bare)


def test_tampered_or_missing_files_are_model_errors(saved, tmp_path, monkeypatch):
    path, _ = saved
    copy = tmp_path / "w.safetensors"
    copy.write_bytes(path.read_bytes() + b"\0")
    copy.with_suffix(".json").write_text(path.with_suffix(".json").read_text())
    with pytest.raises(ModelError, match="sha256"):
        resolve_weights(copy)
    with pytest.raises(ModelError, match="not found"):
        resolve_weights(tmp_path / "absent.safetensors")
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path / "empty")
    with pytest.raises(ModelError, match="no trained weights are shipped"):
        resolve_weights(True)


def test_restorers_expose_the_sha(saved):
    from sgenet_ocr.plugin_manager import PluginHost

    path, sha = saved
    restorer = PluginHost(entry_points=False).restorers.create("sgenet", weights=str(path))
    assert restorer.weights_sha256 == sha and restorer.weights_source == str(path)
    shipped = PluginHost(entry_points=False).restorers.create("sgenet")
    assert shipped.weights_sha256 == resolve_weights(True).sha256
