"""Training: config handling, text-focus losses, a real run that lowers the loss, resume/export."""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
import torch

from sgenet_ocr.data.synth import render_words
from sgenet_ocr.errors import UsageError
from sgenet_ocr.gpu_kit import load_recipes, recipe_overrides
from sgenet_ocr.train import TextFocus, Trainer, load_config, main, resolve_data_path
from train_testkit import TINY_MODEL, tiny_training_settings


def test_config_overrides_and_errors(tmp_path):
    cfg = load_config(None, ["train.batch_size=4", "loss.ctc_weight=0", "data.train=[a, b]"])
    assert cfg["train"]["batch_size"] == 4 and cfg["loss"]["ctc_weight"] == 0
    assert cfg["data"]["train"] == ["a", "b"] and cfg["train"]["lr"] > 0
    assert load_config(None, ["train.lr=3e-4"])["train"]["lr"] == pytest.approx(3e-4)  # YAML 1.1 reads a string
    assert load_config(None, ["train.max_steps=2e3"])["train"]["max_steps"] == 2000  # a count stays an int
    with pytest.raises(UsageError, match="expected a number"):
        load_config(None, ["train.lr=fast"])
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("train:\n  lr: 3e-4\n  grad_clip: null\n")
    assert load_config(recipe)["train"]["lr"] == pytest.approx(3e-4) and load_config(recipe)["train"]["grad_clip"] is None
    recipe.write_text("train:\n  lr: fast\n")
    with pytest.raises(UsageError, match="recipe.yaml: 'lr': expected a number"):
        load_config(recipe)
    # Out-of-range values fail at once, in one line, not minutes later inside torch.
    for bad, message in (("train.batch_size=-3", "train.batch_size must be >= 1, not -3"),
                         ("train.batch_size=2.5", "whole number"), ("train.lr=0", "train.lr must be > 0"),
                         ("train.ema_decay=1", "< 1"), ("data.synth_fraction=1", "< 1"), ("data.textzoom_fraction=1.5", "<= 1"),
                         ("train.betas=[2, 0.9]", "train.betas must be two numbers in")):
        with pytest.raises(UsageError, match=re.escape(message)):
            load_config(None, [bad])
    with pytest.raises(UsageError):
        load_config(None, ["no_equals_sign"])
    with pytest.raises(UsageError):
        load_config(tmp_path / "missing.yaml")
    assert resolve_data_path("x/y") == Path("x/y")
    assert resolve_data_path("@data/ic15").name == "ic15"


def test_out_is_a_new_or_empty_folder_or_a_run_to_resume(tmp_path, capsys):
    """Checked before the config or any data loads; nothing of the user's is touched."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, flags, message in ((afile, [], "is a file, not a folder"),
                                (mine, [], "a folder of other files, not a run"),
                                (mine, ["--resume"], "a folder of other files, not a run")):
        assert main(["--out", str(out), *flags]) == 2
        assert message in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"] and afile.read_text() == "x"


@pytest.mark.slow
def test_finetune_config_layers_over_the_default():
    from sgenet_ocr.data.degrade import DegradeConfig
    from sgenet_ocr.train import DEFAULT_CONFIG

    cfg = load_config(DEFAULT_CONFIG.with_name("sgenet_finetune.yaml"))
    base = load_config(None)
    assert cfg["loss"]["distill_weight"] > 0 == base["loss"]["distill_weight"]
    assert cfg["loss"]["ctc_weight"] == base["loss"]["ctc_weight"]  # untouched keys keep defaults
    assert cfg["data"]["train"] == base["data"]["train"]
    degrade = DegradeConfig.from_dict(cfg["data"]["degrade"])
    assert degrade.clean_prob == 0.3 and degrade.max_factor == 4.5 and degrade.min_factor == 2.0
    # Stage 3 (the shipped weights): stage 2's data, a stronger text focus on legible crops only.
    focus = load_config(DEFAULT_CONFIG.with_name("sgenet_focus.yaml"))
    assert focus["data"] == cfg["data"] and base["loss"]["text_on"] == "all"
    assert focus["loss"]["text_on"] == "legible" and focus["loss"]["ctc_weight"] > cfg["loss"]["ctc_weight"]


def test_training_steps_lower_the_loss_on_a_tiny_set(tmp_path, word_folder):
    cfg = load_config(None, tiny_training_settings(word_folder) + ["train.lr=0.001", "loss.ctc_weight=0.0005"])
    trainer = Trainer(cfg, tmp_path / "run")
    batch = next(iter(trainer.loader))  # one fixed batch: the loss on it must go down

    def pixel_loss_now() -> float:
        with torch.no_grad():
            return float(torch.nn.functional.l1_loss(trainer.model(batch["lr"]), batch["hr"]))

    trainer.model.train()
    before = pixel_loss_now()
    parts = [trainer.train_step(batch) for _ in range(12)]
    after = pixel_loss_now()
    assert after < 0.98 * before
    assert all("ctc" in p for p in parts)  # the text-focus term took part


def test_accumulated_batches_give_the_gradient_of_one_batch_of_them_all(tmp_path, word_folder):
    """``train.accumulate``: batches of different widths cannot be stacked, so each adds its
    share; the step's gradient must be the size-weighted mean of theirs, text terms included."""
    cfg = load_config(None, tiny_training_settings(word_folder) + ["loss.ctc_weight=0.01", "loss.distill_weight=0.01",
                                                      "train.grad_clip=0", "train.batch_size=3"])
    trainer = Trainer(cfg, tmp_path / "run")
    batches = iter(trainer.loader)
    first = next(batches)
    second = next(b for b in batches if b["lr"].shape != first["lr"].shape)
    trainer.optimizer.step = lambda: None  # keep the weights: compare gradients at one point
    trainer.model.eval()

    def gradient(batch) -> torch.Tensor:
        trainer.train_step(batch)
        return torch.cat([p.grad.flatten() for p in trainer.trainable.values()])

    alone = [gradient(first), gradient(second)]
    sizes = [first["lr"].shape[0], second["lr"].shape[0]]
    parts = trainer.train_step([first, second])
    both = torch.cat([p.grad.flatten() for p in trainer.trainable.values()])
    expected = (sizes[0] * alone[0] + sizes[1] * alone[1]) / sum(sizes)
    assert alone[0].abs().sum() > 0 and not torch.allclose(alone[0], alone[1])
    torch.testing.assert_close(both, expected, rtol=1e-4, atol=1e-7)
    assert parts["samples"] == sum(sizes) and parts["ctc"] > 0 and trainer.step == 3


@pytest.mark.slow
def test_cli_run_checkpoints_resumes_and_exports(tmp_path, word_folder):
    from sgenet_ocr.models import create_model

    out = tmp_path / "run"
    settings = tiny_training_settings(word_folder) + ["loss.ctc_weight=0"]
    args = ["--out", str(out)] + [a for s in settings for a in ("--set", s)]
    assert main(args + ["--max-steps", "2"]) == 0
    assert (out / "last.pt").is_file() and (out / "sgenet_x2.safetensors").is_file()
    before = (out / "last.pt").read_bytes()
    assert main(args + ["--max-steps", "3"]) == 2  # not over a run without --resume
    assert (out / "last.pt").read_bytes() == before
    assert main(args + ["--max-steps", "3", "--resume"]) == 0
    with open(out / "log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows if r["kind"] == "train"] == [1, 2, 3]  # step 3 came after resume
    assert any(r["kind"] == "val" and r["val_psnr"] for r in rows)
    model = create_model("sgenet", pretrained=out / "sgenet_x2.safetensors")
    assert model.config.channels == 16
    assert model(torch.rand(1, 3, 16, 40)).shape == (1, 3, 32, 80)


@pytest.mark.slow
def test_ctc_prefers_the_true_label_and_skips_unknown_characters():
    from sgenet_ocr.models.prior import create_prior

    prior = create_prior()
    focus = TextFocus(prior)
    crop = render_words(1, seed=2, words=["HOTEL"], max_rotation=0.0)[0]
    image = torch.from_numpy(crop.image.copy()).permute(2, 0, 1)[None].float() / 255
    image = torch.nn.functional.interpolate(image, size=(32, 32 * image.shape[-1] // image.shape[-2]),
                                            mode="bilinear", align_corners=False)
    with torch.no_grad():
        probs = prior(image)
    assert float(focus.ctc(probs, [crop.label])) < float(focus.ctc(probs, ["QZXJW"]))
    _, _, keep = focus.encode(["ok", "日本", ""])
    assert keep.tolist() == [True, False, False]
    assert float(focus.ctc(probs, ["日本"])) == 0.0
    # Per crop: each crop's loss is its own, whatever its batch-mates' labels.
    pair = focus.ctc(probs.expand(2, -1, -1), ["日本", crop.label])
    assert pair.shape == (2,) and pair[0] == 0.0
    assert torch.allclose(pair[1], focus.ctc(probs, [crop.label])[0])
    # Targets, lengths and mask are made where the probabilities are (a CUDA loss would not
    # divide by CPU lengths); "meta" stands in for a GPU here.
    assert {t.device.type for t in focus.encode(["ok", "日本"], "meta")} == {"meta"}


def test_bf16_falls_back_to_fp32_only_for_a_missing_bf16_kernel(tmp_path, word_folder, monkeypatch):
    trainer = Trainer(load_config(None, tiny_training_settings(word_folder)), tmp_path / "run")
    batch = next(iter(trainer.loader))
    real_step, failures = trainer._train_step, []

    def step(batches):
        if trainer.amp and failures:
            raise RuntimeError(failures.pop())
        return real_step(batches)

    monkeypatch.setattr(trainer, "_train_step", step)
    trainer.amp = True
    failures.append("CUDA out of memory. Tried to allocate 2.00 GiB")
    with pytest.raises(RuntimeError, match="out of memory"):
        trainer.train_step(batch)
    assert trainer.amp  # not autocast's fault: the run stops with the real error
    failures.append("\"upsample_bicubic2d\" not implemented for 'BFloat16'")
    assert "pixel" in trainer.train_step(batch) and not trainer.amp


@pytest.mark.parametrize("recipe", list(load_recipes()))
def test_the_gpu_kits_bf16_step_runs_without_falling_back(tmp_path, word_folder, recipe):
    """bf16 autocast rehearsed on the CPU (the trainer enables it on CUDA only): every loss term
    of each GPU kit recipe (its reader, base and scale, on the tiny model from random weights) runs
    under it, with no op sending the step back to fp32."""
    settings = tiny_training_settings(word_folder) + recipe_overrides(recipe) + [
        "model.init_weights=null", "loss.ctc_weight=0.01", "loss.distill_weight=0.01", "loss.text_on=all"]
    trainer = Trainer(load_config(None, settings), tmp_path / "run")
    trainer.amp = True
    parts = trainer.train_step(next(iter(trainer.loader)))
    assert trainer.amp and all(math.isfinite(parts[k]) and parts[k] > 0 for k in ("pixel", "ctc", "distill"))


def test_loader_workers_fit_in_shared_memory(monkeypatch):
    """A container's small /dev/shm: fewer workers, a shallower prefetch, down to none."""
    import shutil
    from collections import namedtuple

    from sgenet_ocr.train import fit_to_shared_memory

    usage = namedtuple("usage", "total used free")
    mib = 2**20
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(0, 0, 8192 * mib))
    assert fit_to_shared_memory(12, 4, 30 * mib) == (12, 4)  # 48 batches in 4 GiB
    assert fit_to_shared_memory(0, 4, 30 * mib) == (0, None)
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(0, 0, 1024 * mib))
    assert fit_to_shared_memory(12, 4, 30 * mib) == (8, 2)  # 17 batches fit in half of it
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(0, 0, 64 * mib))  # Docker's default
    assert fit_to_shared_memory(12, 4, 30 * mib) == (0, None)

    def missing(_path):
        raise FileNotFoundError(_path)

    monkeypatch.setattr(shutil, "disk_usage", missing)
    assert fit_to_shared_memory(12, 4, 30 * mib) == (12, 4)


@pytest.mark.slow
def test_legible_mask_keeps_only_crops_the_prior_reads_at_full_resolution():
    from sgenet_ocr.models.prior import create_prior

    prior = create_prior()
    focus = TextFocus(prior)
    crops = render_words(2, seed=3, words=["HOTEL", "PARK"], max_rotation=0.0)
    images = [torch.from_numpy(c.image.copy()).permute(2, 0, 1)[None].float() / 255 for c in crops]
    images = [torch.nn.functional.interpolate(im, size=(32, 128), mode="bilinear", align_corners=False)
              for im in images]
    with torch.no_grad():
        probs = prior(torch.cat(images + [torch.full_like(images[0], 0.5)]))
    labels = [crops[0].label, "WRONG", crops[1].label]  # the blank image cannot read as PARK
    assert focus.legible(probs, labels).tolist() == [True, False, False]


def test_the_readers_features_are_what_its_classifier_reads():
    """forward_features: the same probabilities as forward, plus the (N, T, D) sequence features
    the CTC head turns into them (softmax(features @ W + b) is the network's whole output);
    gradients reach the image through them."""
    import operator

    from sgenet_ocr.models.prior import create_reader

    reader = create_reader("ppocrv4_rec")
    images = torch.rand(2, 3, 32, 96, requires_grad=True)
    probs, feats = reader.forward_features(images)
    torch.testing.assert_close(probs, reader(images))
    assert reader.has_features and feats.shape[:2] == probs.shape[:2]
    head = next(n for n in reader.net.graph.nodes if n.target == reader._head_name)
    weight = operator.attrgetter(head.args[1].target)(reader.net)
    bias = operator.attrgetter(next(iter(head.users)).args[1].target)(reader.net)
    with torch.no_grad():
        whole = reader.raw_forward(reader.preprocess(images))
        torch.testing.assert_close(torch.softmax(feats @ weight + bias, -1), whole)
    feats.sum().backward()
    assert images.grad.abs().sum() > 0


def test_feature_match_is_zero_only_where_the_reader_sees_the_same():
    feats = torch.randn(3, 40, 120)
    other = feats.clone()
    other[1] += 0.5
    assert TextFocus.feature_match(feats, other).tolist() == pytest.approx([0.0, 0.25, 0.0])


@pytest.mark.slow
def test_the_feature_loss_trains_every_crop_and_needs_a_reader_with_features(tmp_path, word_folder):
    base = tiny_training_settings(word_folder) + ["loss.ctc_weight=0", "loss.feature_weight=0.01",
                                                  "loss.text_on=legible", "train.grad_clip=0"]
    trainer = Trainer(load_config(None, base), tmp_path / "feat")
    trainer.optimizer.step = lambda: None
    batch = next(iter(trainer.loader))
    parts = trainer.train_step(batch)
    assert parts["feature"] > 0 and "ctc" not in parts
    with_feature = torch.cat([p.grad.flatten() for p in trainer.trainable.values()])
    trainer.cfg["loss"]["feature_weight"] = 0.0
    trainer.train_step(batch)
    pixel_only = torch.cat([p.grad.flatten() for p in trainer.trainable.values()])
    assert not torch.allclose(with_feature, pixel_only)  # the term reached SGENet's weights
    pytest.importorskip("easyocr")
    with pytest.raises(UsageError, match="feature_weight"):
        Trainer(load_config(None, base + ["loss.recogniser=easyocr_g2"]), tmp_path / "ez")


@pytest.mark.slow
def test_text_on_legible_trains_and_rejects_unknown_values(tmp_path, word_folder):
    base = tiny_training_settings(word_folder) + ["loss.ctc_weight=0.001", "loss.distill_weight=0.001"]
    trainer = Trainer(load_config(None, base + ["loss.text_on=legible"]), tmp_path / "ok")
    parts = trainer.train_step(next(iter(trainer.loader)))
    assert {"ctc", "distill"} <= parts.keys() and all(v == v for v in parts.values())  # no NaN
    with pytest.raises(UsageError, match="text_on"):
        Trainer(load_config(None, base + ["loss.text_on=some"]), tmp_path / "bad")


def test_the_text_losses_read_as_the_engine_does_not_as_the_guidance_prior(tmp_path, word_folder):
    """PP-OCRv4's engines pad crops to 320 px and read them differently when they are not: the
    losses and validation use the padded reader, the model's guidance keeps the cheap prior."""
    trainer = Trainer(load_config(None, tiny_training_settings(word_folder)), tmp_path / "pad")
    assert trainer.text.prior.name == trainer.prior.name == "ppocrv4_rec"
    assert trainer.text.prior is not trainer.prior
    assert trainer.text.prior.min_width == 320 and trainer.prior.min_width == 0


@pytest.mark.slow
def test_engine_matched_training_reads_with_the_engines_recogniser(tmp_path, word_folder):
    """loss.recogniser=easyocr_g2: the text-focus losses and validation read with EasyOCR's own
    recogniser; the model's guidance prior stays PP-OCRv4."""
    pytest.importorskip("easyocr")
    base = tiny_training_settings(word_folder) + ["loss.ctc_weight=0.001", "loss.text_on=legible"]
    trainer = Trainer(load_config(None, base + ["loss.recogniser=easyocr_g2"]), tmp_path / "ez")
    assert trainer.text.prior.name == "easyocr_g2" and trainer.prior.name == "ppocrv4_rec"
    parts = trainer.train_step(next(iter(trainer.loader)))
    assert "ctc" in parts and all(v == v for v in parts.values())
    assert trainer.validate()["acc_hr"] is not None


@pytest.mark.slow
def test_engines_judge_checkpoints_on_small_text(tmp_path, word_folder):
    """validation.readers: real engines read the SR output; the best checkpoint is the one with
    the highest mean engine accuracy on small LR text, and each engine's identity / bicubic / HR
    bar is measured once. An engine that is not installed is left out, not fatal."""
    settings = tiny_training_settings(word_folder) + ["loss.ctc_weight=0", "data.val_count=6",
                                         "validation.readers=[tesseract, ppocr, no_such_engine]",
                                         "validation.max_height=12"]
    trainer = Trainer(load_config(None, settings), tmp_path / "judged")
    assert set(trainer.judges.engines) == {"tesseract", "ppocr"}
    assert trainer.judges.skipped == {"no_such_engine": "not installed"}
    natives = [n for batch in trainer.val_batches for n in batch["native"]]
    assert all(8 <= n.shape[0] <= 16 and n.dtype.name == "uint8" for n in natives)  # 32 / f, f in [2, 4]

    first = trainer.validate()
    assert set(first["engines"]) == {"tesseract", "ppocr"}
    for name, acc in first["engines"].items():
        assert 0.0 <= acc["small"] <= 1.0 and acc["n_small"] == sum(n.shape[0] <= 12 for n in natives)
        assert set(first["baselines"][name]) == {"identity", "bicubic", "hr"}
    assert first["select"] == pytest.approx(sum(a["small"] for a in first["engines"].values()) / 2)
    # HR is what the engines read best: on rendered words both read most HR crops.
    assert all(first["baselines"][n]["hr"]["all"] >= 0.5 for n in first["engines"])

    trainer._report_val(first)
    best = tmp_path / "judged" / "best_sgenet_x2.json"
    assert best.is_file() and trainer.best_score == first["select"]
    before = best.stat().st_mtime_ns
    trainer._report_val({**first, "select": first["select"] - 0.01})  # worse: best weights stay
    assert best.stat().st_mtime_ns == before
    # Every validation pairs its small words with the first one's: fixed, broken, sign-test p.
    n_small = first["engines"]["tesseract"]["n_small"]
    assert trainer.start_hits == trainer.last_hits and len(trainer.start_hits) == 2 * n_small
    trainer.last_hits = [True] * len(trainer.start_hits)  # as if every small word were read right
    trainer._report_val(first)
    wrong_before = trainer.start_hits.count(False)
    with open(tmp_path / "judged" / "log.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "val"]
    assert "tesseract" in rows[0]["val_engines"] and float(rows[0]["val_select"]) == pytest.approx(first["select"])
    assert rows[0]["val_vs_start"] == ""
    assert rows[1]["val_vs_start"].startswith("+0 words vs step 0 (fixed 0, broken 0, p 1.00)")
    words = "word" if wrong_before == 1 else "words"
    assert rows[2]["val_vs_start"].startswith(f"+{wrong_before} {words} vs step 0 (fixed {wrong_before}, broken 0")
    trainer._save_checkpoint()  # a resumed run keeps comparing with the weights it started from
    resumed = Trainer(load_config(None, settings), tmp_path / "judged", resume=True)
    assert resumed.start_hits == trainer.start_hits and resumed.start_step == 0
    resumed.judges.close()


def test_channels_last_is_a_layout_not_a_different_training(tmp_path, word_folder):
    """train.channels_last (the default) stores convs NHWC: faster, same steps as NCHW."""
    settings = tiny_training_settings(word_folder) + ["loss.ctc_weight=0.0005", "loss.distill_weight=0.001"]
    nhwc = Trainer(load_config(None, settings), tmp_path / "nhwc")
    nchw = Trainer(load_config(None, settings + ["train.channels_last=false"]), tmp_path / "nchw")
    conv = nhwc.model.to_rgb.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert nchw.model.to_rgb.weight.is_contiguous()
    batch = next(iter(nhwc.loader))
    a, b = nhwc.train_step(batch), nchw.train_step(batch)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    # The same gradients (up to summation order). Not the parameters after Adam steps: its first
    # steps move a parameter by ~lr whatever the size of its gradient, so rounding noise in a
    # near-zero gradient would show as a full step.
    ours, theirs = nhwc.trainable, nchw.trainable
    for name in ours:
        g, h = ours[name].grad, theirs[name].grad
        assert torch.allclose(g, h, rtol=1e-3, atol=1e-4 * float(h.abs().max()) + 1e-12), name
    from sgenet_ocr.models import create_model

    nhwc.export()  # safetensors wants contiguous tensors: the export must convert
    loaded = create_model("sgenet", pretrained=tmp_path / "nhwc" / "sgenet_x2.safetensors")
    assert loaded.to_rgb.weight.is_contiguous()


def test_optimizer_follows_the_config(tmp_path, word_folder):
    from sgenet_ocr.train import make_optimizer

    params = [torch.nn.Parameter(torch.zeros(2))]
    adam = make_optimizer(params, {"lr": 1e-3, "weight_decay": 0.0, "optimizer": "adam", "betas": [0.5, 0.999]})
    assert type(adam) is torch.optim.Adam and adam.param_groups[0]["betas"] == (0.5, 0.999)
    assert type(make_optimizer(params, {"lr": 1e-3, "weight_decay": 0.0})) is torch.optim.AdamW
    with pytest.raises(UsageError, match="optimizer"):
        make_optimizer(params, {"lr": 1e-3, "weight_decay": 0.0, "optimizer": "sgd"})


@pytest.mark.slow
def test_a_signal_to_the_whole_process_group_stops_training_cleanly(tmp_path, word_folder):
    """Ctrl-C (or ``kill -- -PGID``) reaches the data-loader workers too: they leave it to the
    trainer, which saves, exports and exits 0 instead of crashing on a dead worker."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    settings = [s for s in tiny_training_settings(word_folder) if not s.startswith("data.num_workers")]
    args = [sys.executable, "-m", "sgenet_ocr.train", "--out", str(out), "--max-minutes", "10"]
    args += [a for s in settings + ["data.num_workers=1", "loss.ctc_weight=0", "log.log_every_steps=1"]
             for a in ("--set", s)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not ((out / "log.csv").is_file()
                                                    and "train," in (out / "log.csv").read_text()):
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGTERM)  # the trainer and its worker alike
        _, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert (out / "last.pt").is_file() and (out / "sgenet_x2.safetensors").is_file()


@pytest.mark.slow
def test_a_crop_base_model_trains_on_the_crop_enlarged_once(tmp_path, word_folder):
    """``base: crop`` (see models/sgenet.py): the batches carry the base, the model takes it, a
    step moves the weights, and validation runs on it."""
    tiny = {**TINY_MODEL, "base": "crop"}
    cfg = load_config(None, tiny_training_settings(word_folder) + [f"model.kwargs={tiny}"])
    trainer = Trainer(cfg, tmp_path / "run")
    assert trainer.model.takes_base
    batch = next(iter(trainer.loader))
    assert batch["base"].shape == batch["hr"].shape
    before = trainer.model.to_rgb.weight.detach().clone()
    trainer.model.train()
    loss = trainer.train_step(batch)["loss"]
    assert loss == loss and not torch.equal(before, trainer.model.to_rgb.weight)
    assert trainer.validate()["psnr"] > 10


def test_a_model_at_the_recognisers_size_starts_at_its_base_and_trains(tmp_path, word_folder):
    """``output_scale: 3`` with ``zero_correction``: the base is made at 48 px, the first
    output is exactly that base, the pixel loss compares it with the HR resized to it, and a
    step moves the zeroed conv."""
    tiny = {**TINY_MODEL, "base": "crop", "output_scale": 3}
    cfg = load_config(None, tiny_training_settings(word_folder)
                      + [f"model.kwargs={tiny}", "model.zero_correction=true"])
    trainer = Trainer(cfg, tmp_path / "run")
    batch = next(iter(trainer.loader))
    assert batch["base"].shape[-2:] == (48, 3 * batch["lr"].shape[-1])
    with torch.no_grad():
        assert torch.equal(trainer.model.eval()(batch["lr"], base=batch["base"]), batch["base"])
    trainer.model.train()
    loss = trainer.train_step(batch)["loss"]
    assert loss == loss and trainer.model.to_rgb.weight.abs().sum() > 0
    assert trainer.validate()["psnr"] > 10


def small_word_folder(folder: Path, word_folder: Path, count: int) -> tuple[Path, list[str]]:
    """The first ``count`` crops of ``word_folder`` at 20 px: words below the training height."""
    from PIL import Image

    (folder / "images").mkdir(parents=True)
    lines = []
    for name, label in [line.split("\t") for line in (word_folder / "labels.tsv").read_text().splitlines()[:count]]:
        image = Image.open(word_folder / "images" / name)
        image.resize((round(image.width * 20 / image.height), 20)).save(folder / "images" / name)
        lines.append(f"{name}\t{label}\n")
    (folder / "labels.tsv").write_text("".join(lines))
    return folder, lines


def test_validation_on_small_crops_made_as_the_evaluation_makes_them(tmp_path, word_folder):
    """validation.data: the judged words are other crops, made small by an evaluation protocol
    (half: the crop halved, as dev is judged), and every training crop is trained on. A training
    folder's crops are judged only below the training height, so no judged word is trained on."""
    from sgenet_ocr.data.pairs import to_tensor
    from sgenet_ocr.evaluation.protocols import degrade
    from sgenet_ocr.imaging import load_image, resize

    small, lines = small_word_folder(tmp_path / "small", word_folder, 6)
    settings = tiny_training_settings(word_folder) + [f"validation.data=[{small}]"]
    trainer = Trainer(load_config(None, settings), tmp_path / "run")
    assert trainer.n_train == 20 and trainer.n_val == 6  # nothing held out of the training folder
    # Each judged LR is its 20 px crop halved (10 px, as `evaluate --protocol half` makes it),
    # then resized to the model's 16 px input, whatever the training simulation would draw.
    expected = {}
    for line in lines:
        name, label = line.rstrip("\n").split("\t")
        halved = degrade(load_image(small / "images" / name), "half")
        assert halved.shape[0] == 10
        expected.setdefault(label, []).append(halved)  # the four words repeat
    judged = 0
    for batch in trainer.val_batches:
        assert batch["lr"].shape[-2] == 16 and batch["hr"].shape[-2] == 32
        for lr, label in zip(batch["lr"], batch["label"]):
            assert any(torch.equal(lr, to_tensor(resize(h, lr.shape[-1], 16))) for h in expected[label])
            judged += 1
    assert judged == 6 and trainer.validate()["acc_sr"] is not None

    # A run resumed with other validation words starts its best score and paired bar again.
    before = Trainer(load_config(None, tiny_training_settings(word_folder)), tmp_path / "resumed")
    before.best_score, before.start_hits = 0.9, [True] * 4
    before._save_checkpoint()
    resumed = Trainer(load_config(None, settings), tmp_path / "resumed", resume=True)
    assert resumed.step == before.step and resumed.best_score == -1.0 and resumed.start_hits is None
    again = Trainer(load_config(None, tiny_training_settings(word_folder)), tmp_path / "resumed", resume=True)
    assert again.best_score == 0.9 and again.start_hits == [True] * 4  # the same words: kept

    # The training folder itself: only crops below data.min_hr_height (16 here) may be judged.
    for extra, message in ((f"validation.data=[{word_folder}]", "validation.max_crop_height below"),
                           (f"validation.data=[{word_folder}] validation.max_crop_height=15",
                            "no validation crops"),
                           ("validation.protocol=textzoom", "validation.protocol must be one of")):
        with pytest.raises(UsageError, match=message):
            Trainer(load_config(None, tiny_training_settings(word_folder) + extra.split()), tmp_path / "refused")


def test_a_share_of_the_small_words_is_trained_on_as_the_evaluation_makes_them(tmp_path, word_folder):
    """data.small_word_share: a seeded part of validation.data's words leaves validation for the
    training pool (repeated small_word_repeat times), made small by validation.protocol, not by
    the training simulation; no word is both trained and judged."""
    from sgenet_ocr.data.pairs import to_tensor
    from sgenet_ocr.evaluation.protocols import degrade
    from sgenet_ocr.imaging import resize
    from sgenet_ocr.train.loading import validation_source

    small, _ = small_word_folder(tmp_path / "small", word_folder, 10)
    settings = tiny_training_settings(word_folder) + [f"validation.data=[{small}]", "data.small_word_share=0.6",
                                                      "data.small_word_repeat=2"]
    trainer = Trainer(load_config(None, settings), tmp_path / "run")
    assert trainer.n_train == 20 + 6 * 2 and trainer.n_val == 4
    real_small = [c for c in trainer.train_set.crops if c.protocol]
    assert len(real_small) == 12 and {c.protocol for c in real_small} == {"half"}
    trained = {c.source for c in real_small}
    assert len(trained) == 6 and all(c.height == 20 for c in real_small)
    # The simulated crops keep the simulation; a small word's LR is its halved crop, every draw.
    assert all(c.protocol is None for c in trainer.train_set.crops[:20])
    index = trainer.train_set.crops.index(real_small[0])
    width = trainer.train_set.aspect_widths()[index]
    first, second = (trainer.train_set[(index, width, seed)]["lr"] for seed in (1, 2))
    halved = degrade(real_small[0].image, "half")
    assert torch.equal(first, second) and torch.equal(first, to_tensor(resize(halved, width, 16)))
    # The same seed splits the same way; the judged words are the other four.
    again = Trainer(load_config(None, settings), tmp_path / "again")
    assert {c.source for c in again.train_set.crops if c.protocol} == trained
    assert "less the 0.6 share trained on" in validation_source(load_config(None, settings))

    with pytest.raises(UsageError, match="takes its words from validation.data"):
        Trainer(load_config(None, tiny_training_settings(word_folder) + ["data.small_word_share=0.5"]),
                tmp_path / "refused")
