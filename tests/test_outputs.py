"""Outputs of the pipeline CLI: checked before the work, never over an input, unique per page
(issue: reliability defects 1, 3, 7, 8 and `--json -`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from sgenet_ocr.errors import UsageError
from sgenet_ocr.outputs import check_output_file, output_file, page_names

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "street_sign.jpg"


def _cli(*argv) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "sgenet_ocr.pipeline", *map(str, argv)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout, done.stderr


def _image(path: Path, text: str = "OPEN") -> Path:
    img = Image.new("RGB", (240, 80), "white")
    ImageDraw.Draw(img).text((20, 30), text, fill="black")
    img.save(path)
    return path


FAST = ("--engine", "tesseract", "--restorer", "identity", "-q")


def test_annotating_into_the_input_folder_is_refused_and_inputs_survive(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    a = _image(scans / "a.png")
    before = a.read_bytes()
    code, _, err = _cli(scans, "--annotate", scans, *FAST)
    assert code == 2 and "--annotate" in err and "holds inputs" in err
    assert a.read_bytes() == before and sorted(p.name for p in scans.iterdir()) == ["a.png"]


def test_annotating_or_json_over_the_input_file_is_refused(tmp_path):
    photo = _image(tmp_path / "photo.png")
    before = photo.read_bytes()
    assert _cli(photo, "--annotate", photo, *FAST)[0] == 2
    assert _cli(photo, "--json", photo, *FAST)[0] == 2
    assert photo.read_bytes() == before


@pytest.mark.parametrize("flag, value, words", [
    ("--json", "/proc/x.json", "cannot write"),
    ("--json", ".", "is a folder"),
    ("--annotate", "x.txt", "not an image file name"),
])
def test_unwritable_outputs_fail_before_the_work(tmp_path, flag, value, words):
    code, _, err = _cli(EXAMPLE, flag, value, *FAST)
    assert code == 2 and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_json_is_written_even_when_every_input_fails(tmp_path):
    out = tmp_path / "out.json"
    code, _, err = _cli(tmp_path / "missing.png", tmp_path / "empty_dir_missing", "--json", out, *FAST)
    assert code == 3
    result = json.loads(out.read_text())
    assert result["pages"] == [] and len(result["errors"]) == 2


def test_json_dash_is_standard_output(tmp_path):
    code, out, err = _cli(EXAMPLE, "--json", "-", "--engine", "tesseract", "--restorer", "identity")
    assert code == 0 and not (tmp_path / "-").exists() and not (REPO / "-").exists()
    assert json.loads(out)["pages"][0]["source"].endswith("street_sign.jpg")


def test_pages_with_the_same_stem_get_their_own_files(tmp_path):
    a_png, a_tif = _image(tmp_path / "a.png"), tmp_path / "a.tif"
    Image.open(a_png).save(a_tif)
    (tmp_path / "x").mkdir(), (tmp_path / "y").mkdir()
    p_gif, p_jpg = _image(tmp_path / "x" / "p.gif", "EXIT"), _image(tmp_path / "y" / "p.jpg", "EXIT")
    out = tmp_path / "ann"
    code, _, err = _cli(a_png, a_tif, p_gif, p_jpg, "--annotate", out, *FAST)
    assert code == 0, err
    assert len(list(out.iterdir())) == 4


def test_page_names():
    assert page_names(["d/a.png", "d/b.png"], [None, None]) == ["a", "b"]
    assert page_names(["doc.pdf", "doc.pdf"], [1, 2]) == ["doc-p1", "doc-p2"]
    names = page_names(["a.png", "a.tif", "x/p.gif", "y/p.jpg"], [None] * 4)
    assert names == ["a_png", "a_tif", "x_p_gif", "y_p_jpg"]


def test_a_closed_pipeline_refuses_to_run():
    """Reliability defect 2: run() after close() segfaulted with Tesseract."""
    from sgenet_ocr import Pipeline
    from sgenet_ocr.errors import UsageError

    with Pipeline(engine="tesseract", restorer="identity") as ocr:
        assert ocr.run(EXAMPLE).words
    for step in (lambda: ocr.run(EXAMPLE), lambda: ocr.recognize([Image.new("RGB", (8, 8))]),
                 lambda: ocr.restore([])):
        with pytest.raises(UsageError, match="Pipeline is closed"):
            step()
    ocr.close()  # closing twice is harmless


def test_an_output_file_is_checked_before_the_work(tmp_path):
    """The evaluation, compare and benchmark commands check --json / --grid / --markdown as they
    parse: a folder, an input, a wrong suffix or a parent that is a file is one line, exit 2."""
    data = tmp_path / "base.json"
    data.write_text("{}")
    (tmp_path / "a-file").write_text("x")
    for path, kwargs, message in (
            (tmp_path, {}, "is a folder; give a file name"),
            (data, {"inputs": [str(data)]}, "is one of the inputs; refusing to overwrite it"),
            (tmp_path / "grid.txt", {"suffixes": {".png"}}, "not a file name ending in .png"),
            (tmp_path / "a-file" / "out.json", {}, "is a file, not a folder")):
        with pytest.raises(UsageError, match=message):
            check_output_file(path, "--json", **kwargs)
    assert data.read_text() == "{}"
    new = tmp_path / "new" / "deeper" / "out.json"  # folders to be made: fine, and none made yet
    assert check_output_file(new, "--json") == new and not (tmp_path / "new").exists()
    assert output_file("--markdown")(str(tmp_path / "t.md")) == tmp_path / "t.md"
