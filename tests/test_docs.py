"""The README's architecture table and the packaging point at files that exist."""
from __future__ import annotations

import re
from pathlib import Path

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
