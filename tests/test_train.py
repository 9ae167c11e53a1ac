"""Training: config handling, text-focus losses, and a short real run that lowers the loss."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from sgenet_ocr.data.synth import render_words
from sgenet_ocr.errors import UsageError
from sgenet_ocr.train import TextFocus, load_config, main, resolve_data_path

TINY_MODEL = {"channels": 16, "guidance_dim": 16, "gru_hidden": 8, "num_blocks": 1, "guidance_heads": 2,
              "text_layers": 1, "text_to_image_layers": 1, "image_to_text_layers": 1}


def test_config_overrides_and_errors(tmp_path):
    cfg = load_config(None, ["train.batch_size=4", "loss.ctc_weight=0", "data.train=[a, b]"])
    assert cfg["train"]["batch_size"] == 4 and cfg["loss"]["ctc_weight"] == 0
    assert cfg["data"]["train"] == ["a", "b"] and cfg["train"]["lr"] > 0
    with pytest.raises(UsageError):
        load_config(None, ["no_equals_sign"])
    with pytest.raises(UsageError):
        load_config(tmp_path / "missing.yaml")
    assert resolve_data_path("x/y") == Path("x/y")
    assert resolve_data_path("@data/ic15").name == "ic15"


@pytest.fixture(scope="module")
def word_folder(tmp_path_factory) -> Path:
    """A tiny crops folder of rendered words (the package's own synthetic data)."""
    folder = tmp_path_factory.mktemp("words")
    (folder / "images").mkdir()
    from PIL import Image

    lines = []
    for i, crop in enumerate(render_words(20, seed=11, words=["EXIT", "Hotel", "PARK", "road"])):
        Image.fromarray(crop.image).save(folder / "images" / f"{i}.png")
        lines.append(f"{i}.png\t{crop.label}\n")
    (folder / "labels.tsv").write_text("".join(lines))
    return folder


def _losses(run: Path, kind: str, column: str) -> list[float]:
    with open(run / "log.csv") as fh:
        return [float(r[column]) for r in csv.DictReader(fh) if r["kind"] == kind and r[column]]


@pytest.mark.slow
def test_short_run_lowers_the_loss_resumes_and_exports(tmp_path, word_folder):
    from sgenet_ocr.models import create_model

    out = tmp_path / "run"
    common = ["--out", str(out), "--device", "cpu", "--batch-size", "8",
              "--set", f"data.train=[{word_folder}]", "--set", "data.val_count=4",
              "--set", "data.num_workers=0", "--set", "data.textzoom_fraction=0",
              "--set", "data.min_hr_height=16", "--set", f"model.kwargs={TINY_MODEL}",
              "--set", "train.lr=0.003", "--set", "train.warmup_steps=1", "--set", "train.ema_decay=0.5",
              "--set", "loss.ctc_weight=0.0001", "--set", "log.log_every_steps=1", "--set", "threads=2"]
    assert main(common + ["--max-steps", "8"]) == 0
    assert (out / "last.pt").is_file()
    assert main(common + ["--max-steps", "16", "--resume"]) == 0
    steps = [int(float(s)) for s in _losses(out, "train", "step")]
    assert steps == list(range(1, 17))  # the resumed run continued at step 9
    pixel = _losses(out, "train", "pixel")
    assert sum(pixel[-4:]) / 4 < sum(pixel[:4]) / 4
    val = _losses(out, "val", "val_l1")
    assert val[-1] < val[0]
    model = create_model("sgenet", pretrained=out / "sgenet_x2.safetensors")
    assert model.config.channels == 16
    sr = model(torch.rand(1, 3, 16, 40))
    assert sr.shape == (1, 3, 32, 80)


@pytest.mark.slow
def test_ctc_prefers_the_true_label_and_skips_unknown_characters():
    from sgenet_ocr.models.prior import create_prior

    prior = create_prior()
    focus = TextFocus(prior)
    crop = render_words(1, seed=2, words=["HOTEL"], max_rotation=0.0)[0]
    crop_image = render_words(1, seed=2, words=["HOTEL"], max_rotation=0.0)[0].image
    image = torch.from_numpy(crop_image.copy()).permute(2, 0, 1)[None].float() / 255
    image = torch.nn.functional.interpolate(image, size=(32, 32 * image.shape[-1] // image.shape[-2]),
                                            mode="bilinear", align_corners=False)
    with torch.no_grad():
        probs = prior(image)
    right = focus.ctc(probs, [crop.label])
    wrong = focus.ctc(probs, ["QZXJW"])
    assert float(right) < float(wrong)
    _, _, keep = focus.encode(["ok", "日本", ""])
    assert keep.tolist() == [True, False, False]
    assert float(focus.ctc(probs, ["日本"])) == 0.0
