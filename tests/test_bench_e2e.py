"""Smoke run of the end-to-end benchmark (``run_all --smoke``) with a real engine on real pages."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import e2e, run_all  # noqa: E402
from benchmarks.datasets import load_dataset  # noqa: E402
from benchmarks.e2e import is_scored, scaled_page  # noqa: E402
from benchmarks.scoring import recognition_scores, Reading  # noqa: E402
from sgenet_ocr.geometry import perspective_crop, quad_height  # noqa: E402
from sgenet_ocr.imaging import load_image, to_order  # noqa: E402
from sgenet_ocr.plugin_manager import PluginHost  # noqa: E402

ENGINE = "rapidocr"
SCALE = 0.5  # the smoke plan's scale


@pytest.fixture(scope="module")
def smoke(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_smoke")
    code = run_all.main(["--data", str(shared_data), "--smoke", "--out", str(out), "--engines", ENGINE,
                         "--restorers", "identity,bicubic", "--quiet"])
    assert code == 0
    result = json.loads((out / "e2e_ic15_e2e_dev.json").read_text(encoding="utf-8"))
    return out, result


pytestmark = [pytest.mark.needs_data, pytest.mark.slow]


def test_smoke_writes_every_output(smoke):
    out, _ = smoke
    for name in ("e2e_ic15_e2e_dev.json", "e2e_ic15_e2e_dev.md", "summary.md", "run_all.json",
                 "ic15_e2e_dev_accuracy_vs_height.png", "ic15_e2e_dev_examples.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "ic15_e2e_dev_examples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| rapidocr | identity |" in summary and "| rapidocr | bicubic |" in summary
    assert "| rapidocr | bicubic+confident |" in summary
    plan = json.loads((out / "run_all.json").read_text())["e2e_plan"]
    assert plan == [{"dataset": "ic15_e2e_dev", "scales": [SCALE], "limit": 2}]


def test_smoke_rows_are_flat_complete_and_in_range(smoke, shared_data):
    _, result = smoke
    settings, rows = result["settings"], result["rows"]
    assert settings["limit"] == 2 and settings["scales"] == [SCALE] and settings["engines"] == [ENGINE]
    dataset = load_dataset(shared_data / "ic15_e2e_dev", limit=2)
    scored = [it for s in dataset.samples for it in s.items if is_scored(it.text, it.dont_care)]
    for restorer in ("identity", "bicubic"):
        mine = [r for r in rows if r["restorer"] == restorer]
        assert {(r["measure"], r["bucket"]) for r in mine} == {
            (m, b) for m in ("gt_boxes", "e2e") for b in ("all", "<=16", "17-32", ">32")}
        for r in mine:
            assert r["engine"] == ENGINE and r["scale"] == SCALE and r["dataset"] == "ic15_e2e_dev"
            assert r["seconds_per_image"] > 0 and 0 <= r["restore_share"] <= 1
        gt_all = next(r for r in mine if r["measure"] == "gt_boxes" and r["bucket"] == "all")
        e2e_all = next(r for r in mine if r["measure"] == "e2e" and r["bucket"] == "all")
        assert gt_all["n"] == e2e_all["n"] == len(scored)
        assert gt_all["n"] == sum(r["n"] for r in mine if r["measure"] == "gt_boxes" and r["bucket"] != "all")
        assert 0 <= gt_all["accuracy"] <= 1 and 0 <= gt_all["cer"]
        assert 0 <= e2e_all["recall"] <= 1 and e2e_all["predictions"] >= 0
        assert e2e_all["f1"] <= e2e_all["f1_ceiling"] <= 1  # reading right can only add hits
    # detection ran once and is shared by the restorers
    detect = {r["detect_s"] for r in rows if r["measure"] == "e2e"}
    assert len(detect) == 1


def test_the_stage_restored_exactly_the_small_ground_truth_words(smoke, shared_data):
    _, result = smoke
    dataset = load_dataset(shared_data / "ic15_e2e_dev", limit=2)
    heights = []
    for sample in dataset.samples:
        page, factor = scaled_page(load_image(sample.image_path), SCALE)
        heights += [quad_height(it.quad * factor) for it in sample.items if is_scored(it.text, it.dont_care)]
    expected = sum(h < result["settings"]["min_height"] for h in heights) / len(heights)
    row = next(r for r in result["rows"] if r["restorer"] == "bicubic" and r["measure"] == "gt_boxes"
               and r["bucket"] == "all")
    assert row["restored_fraction"] == pytest.approx(expected, abs=1e-6)


def test_identity_accuracy_equals_reading_the_crops_directly(smoke, shared_data):
    """The shared-reading shortcut must give what the engine reads on the unchanged crops."""
    _, result = smoke
    engine = PluginHost().engines.create(ENGINE)
    readings = []
    for sample in load_dataset(shared_data / "ic15_e2e_dev", limit=2).samples:
        page, factor = scaled_page(load_image(sample.image_path), SCALE)
        items = [it for it in sample.items if is_scored(it.text, it.dont_care)]
        crops = [to_order(perspective_crop(page, it.quad * factor), engine.color_order) for it in items]
        for it, (text, _) in zip(items, engine.recognize(crops)):
            readings.append(Reading(it.text, text, quad_height(it.quad * factor)))
    direct = recognition_scores(readings)["all"]["accuracy"]
    row = next(r for r in result["rows"] if r["restorer"] == "identity" and r["measure"] == "gt_boxes"
               and r["bucket"] == "all")
    assert row["accuracy"] == pytest.approx(direct, abs=1e-6)


def test_e2e_command_line_errors_are_one_line_usage_errors(tmp_path, capsys, shared_data):
    assert e2e.main([str(tmp_path), "--engine", ENGINE, "--quiet"]) == 2
    assert "images/ and gts/" in capsys.readouterr().err
    assert e2e.main([str(shared_data / "ic15_e2e_dev"), "--engine", ENGINE, "--scale", "0", "--limit", "1",
                     "--quiet"]) == 2
    assert e2e.main([str(shared_data / "ic15_e2e_dev"), "--engine", ENGINE, "--restorers", "nope",
                     "--limit", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--scale" in err and "nope" in err


def test_confident_rows_keep_the_more_confident_reading(smoke, shared_data):
    """``bicubic+confident`` = per word, the engine's more confident reading of the original
    and the bicubic crop (its trusted readings of the original kept outright), and it pays
    for reading both."""
    from sgenet_ocr.keep import keep_policy
    from sgenet_ocr.restorers import BicubicRestorer

    _, result = smoke
    engine = PluginHost().engines.create(ENGINE)
    min_height = result["settings"]["min_height"]
    readings = []
    for sample in load_dataset(shared_data / "ic15_e2e_dev", limit=2).samples:
        page, factor = scaled_page(load_image(sample.image_path), SCALE)
        for it in (it for it in sample.items if is_scored(it.text, it.dont_care)):
            crop = perspective_crop(page, it.quad * factor)
            height = quad_height(it.quad * factor)
            (original,) = engine.recognize([to_order(crop, engine.color_order)])
            kept = original
            if height < min_height:
                (restored,) = engine.recognize([to_order(BicubicRestorer().restore([crop])[0], engine.color_order)])
                policy = keep_policy("confident", engine.trusted_confidence)  # the engine's, as the pipeline
                kept = policy.choose(original, restored)[0]
            readings.append(Reading(it.text, kept[0], height))
    rows = {r["restorer"]: r for r in result["rows"] if r["measure"] == "gt_boxes" and r["bucket"] == "all"}
    assert "identity+confident" not in rows
    assert rows["bicubic+confident"]["accuracy"] == pytest.approx(recognition_scores(readings)["all"]["accuracy"],
                                                                  abs=1e-6)
    assert rows["bicubic+confident"]["recognize_s"] > rows["bicubic"]["recognize_s"]
