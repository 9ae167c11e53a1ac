"""benchmarks/gradient_noise.py: the noise scale of each training loss term."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import gradient_noise  # noqa: E402
from train_testkit import tiny_training_settings  # noqa: E402


def test_the_noise_scale_of_gradients_with_a_known_mean_and_spread():
    """K = 64 draws of G + N(0, I): tr(Sigma) = P, |G|^2 = P * 0.1^2, so B_noise = 1 / 0.01 = 100,
    and two means of 32 draws meet at cos = |G|^2 / (|G|^2 + P / 32) = 0.24. With G = 0 there is
    no noise scale, only a lower bound, and the batches' cosines are ~0."""
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(64, 4000, generator=gen, dtype=torch.float64)
    signal = gradient_noise.noise_scale(noise + 0.1, batch_size=1)
    assert 80 < signal["b_noise"] < 125 and signal["b_noise_lower_bound"] is None
    assert 0.15 < signal["cos_halves"] < 0.35
    pure = gradient_noise.noise_scale(noise, batch_size=1)
    assert pure["b_noise"] is None and pure["b_noise_lower_bound"] > 100
    assert abs(pure["cos_batches"]) < 0.05 and abs(pure["g2"]) < 3 * pure["g2_se"]


def test_the_pixel_term_of_a_fresh_model_points_one_way(tmp_path, word_folder):
    """A real (tiny) trainer on rendered words: the L1 gradient of an untrained model points the
    same way in every batch (its noise scale is a few crops), and every term asked for is
    reported, from the same batches."""
    out = tmp_path / "noise.json"
    settings = tiny_training_settings(word_folder) + ["train.batch_size=4", "loss.ctc_weight=0.01"]
    sets = [a for s in settings for a in ("--set", s)]
    assert gradient_noise.main(sets + ["--terms", "pixel,ctc,feature", "--batches", "6", "--json", str(out),
                                       "--markdown", str(tmp_path / "noise.md")]) == 0
    result = json.loads(out.read_text())
    assert result["settings"]["batches"] == 6 and set(result["terms"]) == {"pixel", "ctc", "feature"}
    pixel = result["terms"]["pixel"]
    assert pixel["cos_halves"] > 0.5 and pixel["cos_batches"] > 0.15 and pixel["b_noise"] is not None
    assert result["terms"]["ctc"]["grad_norm"] > 0 and result["terms"]["feature"]["grad_norm"] > 0
    assert "| pixel |" in (tmp_path / "noise.md").read_text()


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    for args in (["--terms", "pixel,sharpness"], ["--batches", "2"]):
        assert gradient_noise.main(args + ["--json", str(tmp_path / "x.json")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "gradient_noise" in err
