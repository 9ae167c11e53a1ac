"""The CLI end to end with the real EasyOCR engine on the repo's example, which has text under 16 px."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.metrics import normalize_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, repo_root):
    out = tmp_path_factory.mktemp("demo")
    cmd = [sys.executable, "-m", "sgenet_ocr.pipeline", str(repo_root / "examples" / "street_sign.jpg"),
           "--engine", "easyocr", "--restorer", "bicubic", "--compare", "--json", str(out / "r.json"),
           "--trust", "2",  # restore every small crop, however confidently it was read: the stage is under test
           "--annotate", str(out / "a.png"), "--save-crops", str(out / "crops")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return proc, out


def test_exit_code_and_printed_text(demo_run):
    proc, _ = demo_run
    assert proc.returncode == 0, proc.stderr
    assert "BAKERY" in proc.stdout


def test_json_has_small_restored_words_read_by_easyocr(demo_run):
    _, out = demo_run
    (page,) = json.loads((out / "r.json").read_text())["pages"]
    assert page["engine"] == "easyocr" and (page["width"], page["height"]) == (1024, 640)
    words = page["words"]
    texts = {normalize_text(w["text"]) for w in words}
    assert {"corner", "bakery", "freshbread"} <= texts  # large text read as is
    restored = [w for w in words if w["restored"]]
    assert len(restored) >= 4  # the small print (9-15 px) goes through the stage
    for w in restored:
        heights = np.linalg.norm(np.subtract(w["quad"][3], w["quad"][0]))
        assert heights < 24
        assert "baseline_text" in w and "baseline_confidence" in w
    # Known small lines, read after restoration (bicubic x2), at least most of them.
    expected = {"tel5550142", "cashandcardsaccepted", "askaboutglutenfreeoptionsinside", "pleaseringthebell"}
    assert len(expected & {normalize_text(w["text"]) for w in restored}) >= 2


def test_pictures_are_written(demo_run):
    _, out = demo_run
    assert Image.open(out / "a.png").size == (1024, 640)
    crops = sorted((out / "crops").glob("*.png"))
    assert crops and all(Image.open(c).height >= 16 for c in crops)
