"""Errors say what is wrong: permission, unreadable folder, symbolic links, a missing sidecar,
an unwritable ONNX cache, a plugin that is no plugin (one line each, the documented exit code)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.errors import InputImageError, ModelError
from sgenet_ocr.imaging import load_image
from sgenet_ocr.pipeline.__main__ import main

BASE = ["--engine", "tesseract", "--restorer", "identity", "-q"]


@pytest.fixture
def page(tmp_path) -> Path:
    path = tmp_path / "page.png"
    Image.fromarray(np.full((40, 60, 3), 255, np.uint8)).save(path)
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    lines = [l for l in err.splitlines() if l.strip()]
    assert lines and all(l.startswith("sgenet-ocr: error: ") for l in lines), err
    return code, lines


def test_permission_denied_is_not_called_corrupt(page, monkeypatch):
    import sgenet_ocr.imaging as imaging

    def denied(fp, *a, **k):
        raise PermissionError(13, "Permission denied", str(fp))

    monkeypatch.setattr(imaging.Image, "open", denied)
    with pytest.raises(InputImageError, match=r"page.png: permission denied$"):
        load_image(page)


def test_symlink_loop_and_broken_link_are_named(tmp_path, capsys):
    loop, broken = tmp_path / "loop.png", tmp_path / "broken.png"
    os.symlink(loop, loop)
    os.symlink(tmp_path / "gone.png", broken)
    with pytest.raises(InputImageError, match="symbolic link loop"):
        load_image(loop)
    with pytest.raises(InputImageError, match=r"broken symbolic link \(to .*gone.png\)"):
        load_image(broken)
    code, lines = run([loop, broken, *BASE], capsys)
    assert code == 3
    assert any("loop.png: symbolic link loop" in l for l in lines)
    assert any("broken.png: broken symbolic link" in l for l in lines)


def test_unreadable_folder_is_not_called_empty(tmp_path, page, capsys, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copy(page, folder / "a.png")
    real = os.scandir

    def scandir(path="."):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, lines = run([folder, *BASE], capsys)
    assert code == 3
    assert "locked: folder cannot be read (permission denied)" in lines[0]
    assert "holds no images" not in lines[0]


def test_missing_sidecar_is_named_not_the_weights(tmp_path, monkeypatch):
    import sgenet_ocr.models as zoo
    from sgenet_ocr.export import load_for_export

    shutil.copy(zoo.PRETRAINED["sgenet"].weights_path, tmp_path)
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelError, match=r"no sha256 sidecar \(.*sgenet_x2.json\)"):
        load_for_export(None)


def test_unwritable_onnx_cache_folder_is_a_usage_error(tmp_path, page, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, lines = run([page, *BASE, "--restorer", "sgenet-onnx", "--restorer-option",
                       f"cache_dir={blocker / 'onnx'}"], capsys)
    assert code == 2
    assert f"ONNX cache folder {blocker / 'onnx'} cannot be written" in lines[0]


def test_plugin_that_is_not_a_python_file_or_is_a_folder(tmp_path, page, capsys, monkeypatch):
    text = tmp_path / "x.txt"
    text.write_text("hello")
    code, lines = run([page, *BASE, "--plugin", text], capsys)
    assert code == 2 and "x.txt' is not a Python file" in lines[0]
    (tmp_path / "somedir").mkdir()
    code, lines = run([page, *BASE, "--plugin", tmp_path / "somedir"], capsys)
    assert code == 2 and "is a folder" in lines[0]
    monkeypatch.chdir(tmp_path)  # a bare folder name imports as a namespace package
    monkeypatch.syspath_prepend(str(tmp_path))
    code, lines = run([page, *BASE, "--plugin", "somedir"], capsys)
    assert code == 2 and "'somedir' is a folder without __init__.py" in lines[0]


@pytest.mark.parametrize("kept", ["sgenet_x2.safetensors", "sgenet_x2.json"])
def test_half_the_shipped_weights_is_a_model_error_not_a_bicubic_fallback(tmp_path, page, capsys, monkeypatch, kept):
    import sgenet_ocr.models as zoo
    from sgenet_ocr.stage import default_restorer

    shutil.copy(zoo.WEIGHTS_DIR / kept, tmp_path)
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    monkeypatch.delenv(zoo.WEIGHTS_ENV, raising=False)
    assert default_restorer() == "sgenet"
    code, lines = run([page, "--engine", "tesseract", "-q"], capsys)
    assert code == ModelError.exit_code == 6
    missing = "no sha256 sidecar" if kept.endswith(".safetensors") else "sgenet_x2.safetensors is missing"
    assert missing in lines[0]


def test_without_shipped_weights_the_default_is_bicubic(tmp_path, monkeypatch):
    import sgenet_ocr.models as zoo
    from sgenet_ocr.stage import default_restorer

    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    monkeypatch.delenv(zoo.WEIGHTS_ENV, raising=False)
    assert default_restorer() == "bicubic"


@pytest.mark.parametrize("flags, message", [
    (["--engine", "easyocr", "--engine-option", "batch_size=0"], "easyocr batch_size must be a whole number >= 1, got 0"),
    (["--engine", "rapidocr", "--engine-option", "batch_size=-2"], "rapidocr batch_size must be a whole number >= 1, got -2"),
    (["--engine", "paddleocr", "--engine-option", "batch_size=0"], "paddleocr batch_size must be a whole number >= 1, got 0"),
    (["--engine", "tesseract", "--restorer", "sgenet", "--restorer-option", "batch_size=0"],
     "restorer 'sgenet' option batch_size must be a whole number >= 1, got 0"),
    (["--engine", "tesseract", "--restorer", "sgenet-onnx", "--restorer-option", "bucket=-3"],
     "restorer 'sgenet-onnx' option bucket must be a whole number >= 1, got -3"),
])
def test_a_batch_size_or_bucket_below_one_is_refused_not_taken_as_one(page, capsys, flags, message):
    code, lines = run([page, *flags, "-q"], capsys)
    assert code == 2 and lines == [f"sgenet-ocr: error: {message}"]
