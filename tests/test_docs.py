"""The README's architecture table and the packaging point at files that exist."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_path_the_readme_names_exists():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:sgenet_ocr|plugins|benchmarks)/[\w/.]*)`", text))
    assert "sgenet_ocr/keep.py" in paths and "sgenet_ocr/options.py" in paths
    assert [p for p in sorted(paths) if not (ROOT / p).exists()] == []


def test_presets_ship_inside_the_package():
    import tomllib

    from sgenet_ocr.presets import SHIPPED, known_presets

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "presets/*.yaml" in data["sgenet_ocr"]
    assert SHIPPED == ROOT / "sgenet_ocr" / "presets"
    assert {"easyocr-sgenet", "easyocr-bicubic", "rapidocr-sgenet", "paddleocr-sgenet"} <= set(known_presets())


def _offline_engine_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("#### An offline engine object for each engine", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_has_an_offline_engine_block_for_each_engine():
    firsts = [block.splitlines()[0] for block in _offline_engine_blocks()]
    assert [f.split(":")[0] for f in firsts] == ["# EasyOCR", "# RapidOCR", "# PaddleOCR", "# Tesseract"]


@pytest.mark.slow
@pytest.mark.parametrize("index,module", [(0, "easyocr"), (1, "rapidocr_onnxruntime"), (2, "paddleocr"),
                                          (3, "tesserocr")])
def test_each_offline_engine_block_runs_without_network(index, module):
    """Each README block as a script, in a network namespace of its own when we may make one."""
    import os
    import shutil
    import subprocess
    import sys

    pytest.importorskip(module)
    code = _offline_engine_blocks()[index]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", code]
    if shutil.which("unshare") and os.geteuid() == 0:
        cmd = ["unshare", "-n", *cmd]  # no network at all
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("[") and len(last) > 2
    if module != "tesserocr":
        assert "bread" in last.lower()
