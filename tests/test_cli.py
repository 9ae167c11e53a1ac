"""The CLI's contract: outputs, presets, exit codes and one-line errors (engine: the test-only sizer)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr.errors import EXIT_CODES, UsageError
from sgenet_ocr.pipeline.__main__ import main

FAKE = str(Path(__file__).parent / "plugins" / "fake_engine.py")
BASE = ["--engine", "sizer", "--restorer", "bicubic", "--plugin", FAKE, "-q"]


@pytest.fixture
def page(tmp_path) -> Path:
    img = np.full((120, 300, 3), 255, np.uint8)
    img[20:30, 20:80] = 0
    img[50:90, 150:280] = 0
    path = tmp_path / "page.png"
    Image.fromarray(img).save(path)
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert lines and all(l.startswith("sgenet-ocr: error: ") for l in lines), err
    assert "Traceback" not in err
    return lines[0]


def test_json_annotate_and_crops(tmp_path, page, capsys):
    out = tmp_path / "out"
    code, _, err = run([page, *BASE, "--compare", "--json", out / "r.json", "--annotate", out / "a.png",
                        "--save-crops", out / "crops"], capsys)
    assert code == 0, err
    data = json.loads((out / "r.json").read_text())
    (p,) = data["pages"]
    assert {k for k in p} == {"source", "width", "height", "engine", "restorer", "keep", "words", "timings"}
    assert p["keep"] == "confident"  # the default
    assert (p["width"], p["height"], p["engine"], p["restorer"]) == (300, 120, "sizer", "bicubic")
    assert set(p["timings"]) >= {"detect", "restore", "recognize"}
    words = {w["text"]: w for w in p["words"]}
    assert words["120x20"]["restored"] and words["120x20"]["baseline_text"] == "60x10"
    assert not words["130x40"]["restored"] and words["130x40"]["baseline_text"] == "130x40"
    assert set(words["120x20"]) == {"quad", "text", "confidence", "restored", "kept_original",
                                    "baseline_text", "baseline_confidence"}
    assert Image.open(out / "a.png").size == (300, 120)
    (crop,) = sorted((out / "crops").glob("*.png"))
    assert Image.open(crop).height == 20  # original (upscaled) beside the 20 px restored crop


def test_without_compare_there_are_no_baseline_fields(tmp_path, page, capsys):
    code, _, _ = run([page, *BASE, "--json", tmp_path / "r.json"], capsys)
    assert code == 0
    word = json.loads((tmp_path / "r.json").read_text())["pages"][0]["words"][0]
    assert "baseline_text" not in word


@pytest.mark.parametrize("prefer, restored_text", [("taller", "120x20"), ("shorter", "60x10")])
def test_keep_confident_keeps_the_more_confident_reading(tmp_path, page, capsys, prefer, restored_text):
    preset = tmp_path / "p.yaml"
    preset.write_text(f"engine: sizer\nrestorer: bicubic\nkeep: confident\nengine_options: {{prefer: {prefer}}}\n")
    code, _, err = run([page, "--pipeline", preset, "--plugin", FAKE, "--json", tmp_path / "r.json", "-q"], capsys)
    assert code == 0, err
    (p,) = json.loads((tmp_path / "r.json").read_text())["pages"]
    assert p["keep"] == "confident"
    assert set(p["timings"]) == {"detect", "recognize", "restore", "recognize_restored"}
    small = next(w for w in p["words"] if w["restored"])
    assert small["text"] == restored_text and small["kept_original"] == (prefer == "shorter")
    big = next(w for w in p["words"] if not w["restored"])
    assert big["text"] == "130x40" and big["kept_original"] is False
    assert "baseline_text" not in small  # --compare was not asked for


def test_keep_restored_always_keeps_the_restored_reading(tmp_path, page, capsys):
    preset = tmp_path / "p.yaml"
    preset.write_text("engine: sizer\nrestorer: bicubic\nengine_options: {prefer: shorter}\n")
    code, _, _ = run([page, "--pipeline", preset, "--plugin", FAKE, "--keep", "restored", "--json",
                      tmp_path / "r.json", "-q"], capsys)
    assert code == 0
    (p,) = json.loads((tmp_path / "r.json").read_text())["pages"]
    small = next(w for w in p["words"] if w["restored"])
    assert p["keep"] == "restored" and small["text"] == "120x20" and "kept_original" not in small


def test_unknown_keep_policy_is_a_usage_error(page, capsys):
    from sgenet_ocr import Pipeline

    code, _, err = run([page, *BASE, "--keep", "best"], capsys)
    assert code == UsageError.exit_code and "--keep" in err
    with pytest.raises(UsageError, match="known: restored, confident"):
        Pipeline(engine="easyocr", keep="best")


def test_text_is_printed(page, capsys):
    code, out, _ = run([page, *[a for a in BASE if a != "-q"]], capsys)
    assert code == 0 and "* 120x20" in out and "  130x40" in out


def test_preset_and_flags_override_it(tmp_path, page, capsys):
    preset = tmp_path / "tiny.yaml"
    preset.write_text("engine: sizer\nrestorer: identity\nmin_height: 100\n")
    code, _, _ = run([page, "--pipeline", preset, "--plugin", FAKE, "--json", tmp_path / "a.json", "-q"], capsys)
    assert code == 0
    words = json.loads((tmp_path / "a.json").read_text())["pages"][0]["words"]
    assert all(w["restored"] for w in words) and {w["text"] for w in words} == {"60x10", "130x40"}
    code, _, _ = run([page, "--pipeline", preset, "--plugin", FAKE, "--min-height", "5", "--json",
                      tmp_path / "b.json", "-q"], capsys)
    assert not any(w["restored"] for w in json.loads((tmp_path / "b.json").read_text())["pages"][0]["words"])


def test_named_presets_in_the_repo_are_valid(capsys):
    code, out, _ = run(["--list-plugins"], capsys)
    assert code == 0
    assert "easyocr-sgenet" in out and "bicubic" in out and "identity" in out


def test_folder_with_one_bad_file_keeps_the_others(tmp_path, page, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(page.read_bytes())
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    code, _, err = run([folder, *BASE, "--json", tmp_path / "r.json", "--annotate", tmp_path / "ann"], capsys)
    assert code == 3
    assert "broken.jpg" in one_line_error(err)
    data = json.loads((tmp_path / "r.json").read_text())
    assert len(data["pages"]) == 2 and data["errors"][0]["source"].endswith("broken.jpg")
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize("argv,code,message", [
    (["{page}", "--engine", "nope"], 2, "unknown engine 'nope'; known engines: "),
    (["{page}", "--restorer", "nope"], 2, "unknown restorer 'nope'; known restorers: "),
    (["{page}", "--pipeline", "no-such-preset"], 2, "unknown pipeline preset 'no-such-preset'; known presets: "),
    (["{page}", "--plugin", "no_such_plugin_mod"], 2, "plugin 'no_such_plugin_mod' not found"),
    (["{page}", "--min-height", "-3"], 2, "min_height must be"),
    ([], 2, "no input images"),
    (["{tmp}/missing.png"], 3, "no such file"),
    (["{tmp}/empty.png"], 3, "empty file"),
    (["{tmp}/text.png"], 3, "not an image"),
])
def test_bad_input_gives_one_line_and_exit_code(tmp_path, page, capsys, argv, code, message):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    argv = [a.format(page=page, tmp=tmp_path) for a in argv]
    if "--engine" not in argv:
        argv += ["--engine", "sizer"]
    if "--restorer" not in argv:
        argv += ["--restorer", "bicubic"]
    got, _, err = run([*argv, "--plugin", FAKE], capsys)
    assert got == code
    assert message in one_line_error(err)


@pytest.mark.parametrize("preset,message", [
    ("min_height: '20'", "min_height must be a number"),
    ("min_height: true", "min_height must be a number"),
    ("engine: [tesseract]", "engine must be a name"),
    ("engine_options: [1]", "engine_options must be a mapping"),
    ("restorer_options: x", "restorer_options must be a mapping"),
])
def test_preset_values_of_the_wrong_type_exit_2_naming_the_key(tmp_path, page, capsys, preset, message):
    path = tmp_path / "bad.yaml"
    path.write_text(preset + "\n")
    code, _, err = run([page, "--pipeline", path, "--plugin", FAKE, "-q"], capsys)
    assert code == 2
    assert f"pipeline preset {path}: {message}" in one_line_error(err)


@pytest.mark.parametrize("argv,message", [
    (["--restorer", "bicubic", "--restorer-option", "scael=3"], "unknown restorer 'bicubic' option 'scael'; known: device, scale"),
    (["--restorer", "bicubic", "--restorer-option", "scale=x"], "scale must be a whole number"),
    (["--restorer", "identity", "--restorer-option", "weights=w"], "unknown restorer 'identity' option 'weights'; known: device"),
    (["--restorer", "sgenet", "--restorer-option", "wieghts=w"], "unknown restorer 'sgenet' option 'wieghts'; known: batch_size"),
    (["--restorer", "sgenet-onnx", "--restorer-option", "onnx=w"], "unknown restorer 'sgenet-onnx' option 'onnx'; known: batch_size"),
    (["--restorer", "bicubic", "--restorer-option", "device=cpu"], "device is not a restorer option"),
    (["--engine", "tesseract", "--restorer", "identity", "--engine-option", "langauge=eng"],
     "unknown engine 'tesseract' option 'langauge'; known: device, language, margin, tessdata"),
])
def test_misspelt_engine_and_restorer_options_exit_2_naming_them(page, capsys, argv, message):
    if "--engine" not in argv:
        argv = [*argv, "--engine", "sizer", "--plugin", FAKE]
    code, _, err = run([page, *argv, "-q"], capsys)
    assert code == 2
    assert message in one_line_error(err)


def test_plugin_that_raises_is_named_with_exit_5(page, capsys):
    raising = str(Path(__file__).parent / "plugins" / "raising_plugin.py")
    code, _, err = run([page, *BASE, "--plugin", raising], capsys)
    assert code == 5 and "raising_plugin.py" in one_line_error(err)


def test_page_without_text(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 48), "white").save(blank)
    code, _, _ = run([blank, *BASE, "--json", tmp_path / "r.json"], capsys)
    assert code == 0
    assert json.loads((tmp_path / "r.json").read_text())["pages"][0]["words"] == []


def test_exit_codes_are_documented_in_help():
    out = subprocess.run([sys.executable, "-m", "sgenet_ocr.pipeline", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for code in EXIT_CODES:
        assert f"  {code}  " in out.stdout


def test_cuda_request_without_gpu_is_a_usage_error(page, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    code, _, err = run([page, *BASE, "--device", "cuda"], capsys)
    assert code == 2 and "no CUDA GPU" in one_line_error(err)


@pytest.mark.parametrize("how", ["flag", "preset"])
@pytest.mark.parametrize("engine,option", [("rapidocr", "batch_size"), ("easyocr", "batch_size"),
                                           ("tesseract", "margin")])
def test_engine_option_of_the_wrong_type_exits_2_naming_it(tmp_path, page, capsys, how, engine, option):
    if how == "flag":
        argv = ["--engine", engine, "--engine-option", f"{option}=x"]
    else:
        preset = tmp_path / "p.yaml"
        preset.write_text(f"engine: {engine}\nengine_options: {{{option}: x}}\n")
        argv = ["--pipeline", preset]
    code, _, err = run([page, *argv, "--restorer", "identity", "-q"], capsys)
    assert code == 2, err
    assert f"engine '{engine}' option {option} must be a" in one_line_error(err) and "'x'" in err


MALFORMED = str(Path(__file__).parent / "plugins" / "malformed_engine.py")


@pytest.mark.parametrize("fault,message", [
    ("none_confidence", "a reading that is not (text, finite confidence): ('word', None)"),
    ("nan_confidence", "a reading that is not (text, finite confidence): ('word', nan)"),
    ("not_a_pair", "a reading that is not (text, finite confidence): 'word'"),
    ("too_few", "0 readings for 1 crops"),
    ("three_points", "a box that is not 4 points (a quad needs 8 finite numbers, got 6)"),
])
def test_a_malformed_engine_result_is_that_pages_error_and_the_batch_goes_on(tmp_path, capsys, fault, message):
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    Image.new("RGB", (40, 20), "white").save(good)
    Image.new("RGB", (13, 20), "white").save(bad)  # the width the test engine fails on
    code, _, err = run([bad, good, "--engine", "malformed", "--engine-option", f"fault={fault}", "--restorer",
                        "identity", "--plugin", MALFORMED, "--json", tmp_path / "r.json", "-q"], capsys)
    assert code == 5
    line = one_line_error(err)
    assert "bad.png: plugin '" in line and "malformed_engine.py': engine 'malformed' returned " + message in line
    data = json.loads((tmp_path / "r.json").read_text())
    assert [p["source"] for p in data["pages"]] == [str(good)]
    (error,) = data["errors"]
    assert error["source"] == str(bad) and error["plugin"].endswith("malformed_engine.py")


def test_an_exception_in_page_done_is_named_with_exit_5(tmp_path, page, capsys):
    plugin = tmp_path / "done_plugin.py"
    plugin.write_text("from sgenet_ocr import hookimpl\n\n@hookimpl\ndef page_done(page, options):\n"
                      "    raise KeyError('no exporter')\n")
    code, _, err = run([page, *BASE, "--plugin", plugin], capsys)
    assert code == 5
    assert "done_plugin.py' failed in page_done: KeyError: 'no exporter'" in one_line_error(err)


def test_two_plugins_adding_the_same_option_are_named_with_exit_5(tmp_path, page, capsys):
    plugins = []
    for name in ("first_shout.py", "second_shout.py"):
        plugins += ["--plugin", tmp_path / name]
        (tmp_path / name).write_text("from sgenet_ocr import hookimpl\n\n@hookimpl\ndef add_options(parser):\n"
                                     "    parser.add_argument('--shout', action='store_true')\n")
    code, _, err = run([page, *BASE, *plugins], capsys)
    assert code == 5
    line = one_line_error(err)
    assert "shout.py' failed in add_options: ArgumentError: argument --shout: conflicting option string" in line


def test_an_engine_factory_returning_none_is_named_with_exit_5(tmp_path, page, capsys):
    plugin = tmp_path / "lazy_engine.py"
    plugin.write_text("from sgenet_ocr import hookimpl\n\n@hookimpl\ndef register_engines(register):\n"
                      "    register('lazy', lambda: None)\n")
    code, _, err = run([page, "--engine", "lazy", "--restorer", "identity", "--plugin", plugin, "-q"], capsys)
    assert code == 5
    assert "lazy_engine.py': the engine 'lazy' factory returned None instead of an object" in one_line_error(err)


def test_threads_reach_the_factories_that_take_them_and_the_users_option_wins(tmp_path, page, capsys):
    seen = tmp_path / "seen.txt"
    plugin = tmp_path / "threaded.py"
    plugin.write_text(f"""from sgenet_ocr import hookimpl
from sgenet_ocr.restorers import IdentityRestorer


def threaded(device="cpu", threads=None):
    open({str(seen)!r}, "a").write(f"{{threads}}\\n")
    return IdentityRestorer()


@hookimpl
def register_restorers(register):
    register("threaded", threaded)
""")
    argv = [page, "--engine", "sizer", "--plugin", FAKE, "--plugin", plugin, "--restorer", "threaded", "-q"]
    assert run([*argv, "--threads", "3"], capsys)[0] == 0
    assert run([*argv, "--threads", "3", "--restorer-option", "threads=2"], capsys)[0] == 0
    assert run([*argv, "--restorer", "bicubic", "--threads", "3"], capsys)[0] == 0  # takes none: not passed
    code, _, err = run([*argv, "--threads", "0"], capsys)
    assert code == 2 and "threads must be a whole number >= 1, got 0" in one_line_error(err)
    assert seen.read_text().split() == ["3", "2"]


def test_threads_set_the_sgenet_restorers_torch_threads(page):
    import torch

    from sgenet_ocr import Pipeline

    before = torch.get_num_threads()
    try:
        with Pipeline(engine="sizer", restorer="sgenet", plugins=[FAKE], threads=1) as ocr:
            assert torch.get_num_threads() == 1 and ocr.options.threads == 1
    finally:
        torch.set_num_threads(before)
