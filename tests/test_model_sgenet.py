"""SGENet: shapes for any width, gradients, frozen prior, budget, weights round trip and errors."""
from __future__ import annotations

import json

import pytest
import torch

import sgenet_ocr.models as zoo
from sgenet_ocr.errors import ModelError, UsageError
from sgenet_ocr.models import create_model, save_weights
from sgenet_ocr.models.complexity import model_macs, prior_parameters, trainable_parameters


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("sgenet")


@pytest.mark.parametrize("width", [16, 64, 100, 256, 512])
def test_output_is_twice_the_input_for_any_width(model, width):
    lr = torch.rand(1, 3, 16, width)
    with torch.no_grad():
        sr = model(lr)
    assert sr.shape == (1, 3, 32, 2 * width)
    assert sr.min() >= 0 and sr.max() <= 1


def test_textzoom_batch_and_precomputed_prior_agree(model):
    lr = torch.rand(3, 3, 16, 64)
    with torch.no_grad():
        probs = model.prior(lr)
        direct, given = model(lr), model(lr, prior_probs=probs)
    assert probs.shape[0] == 3 and probs.shape[2] == len(model.prior.charset)
    assert direct.shape == (3, 3, 32, 128)
    assert torch.equal(direct, given)


def test_eval_is_deterministic_and_per_sample(model):
    lr = torch.rand(4, 3, 16, 48)
    with torch.no_grad():
        batch = model(lr)
        again = model(lr)
        alone = model(lr[2:3])
    assert torch.equal(batch, again)
    assert torch.allclose(batch[2:3], alone, atol=1e-5)


def test_the_guidance_changes_the_output(model):
    lr = torch.rand(1, 3, 16, 64)
    probs = model.prior(lr).detach()
    with torch.no_grad():
        a = model(lr, prior_probs=probs)
        b = model(lr, prior_probs=probs.flip(1))
    assert not torch.allclose(a, b)


def test_bad_input_shape_is_rejected(model):
    with pytest.raises(ValueError, match="16"):
        model(torch.rand(1, 3, 20, 64))


def test_gradients_reach_every_trainable_parameter():
    torch.manual_seed(1)
    model = create_model("sgenet").train()
    lr = torch.rand(2, 3, 16, 32)
    hr_probs = model.prior(torch.rand(2, 3, 32, 64)).detach()
    sr = model(lr)
    # pixel loss plus a text-focus loss through the frozen prior
    loss = sr.mean() + (model.prior(sr) - hr_probs).abs().mean()
    loss.backward()
    missing = [n for n, p in model.named_parameters()
               if not n.startswith("prior.") and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert missing == []
    assert all(p.grad is None for p in model.prior.parameters())


def test_the_recurrent_layers_train_in_fp32_under_bf16_autocast():
    """The trainer's bf16 autocast must not reach the GRUs: on CUDA it would run them in fp16,
    where their small gradients underflow to zero without an error."""
    torch.manual_seed(2)
    model = create_model("sgenet").train()
    seen, convs = [], []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.GRU):
            module.register_forward_pre_hook(lambda _m, args: seen.append(args[0].dtype))
        elif isinstance(module, torch.nn.Conv2d) and not name.startswith("prior."):
            module.register_forward_hook(lambda _m, _args, out: convs.append(out.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        sr = model(torch.rand(2, 3, 16, 32))
    assert torch.bfloat16 in convs  # the convolutions did run under autocast
    assert seen and set(seen) == {torch.float32}
    sr.mean().backward()
    missing = [n for n, p in model.named_parameters()
               if ".gru." in n and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert missing == []


def test_prior_stays_frozen_and_out_of_the_state(model):
    model.train()
    try:
        assert model.training and not model.prior.training
        assert not any(p.requires_grad for p in model.prior.parameters())
    finally:
        model.eval()
    state = model.state_dict()
    assert state and not any(k.startswith("prior.") for k in state)
    assert sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) \
        == trainable_parameters(model)


def test_budget_params_and_macs(model):
    assert trainable_parameters(model) < 1_000_000
    assert prior_parameters(model) > 1_000_000  # the real PP-OCRv4 recogniser, counted apart
    macs = model_macs(model, width=64)
    assert 0.3e9 < macs["sr_macs"] <= 1.0e9
    assert macs["prior_macs"] > 0


def test_state_dict_round_trip(model):
    other = create_model("sgenet")
    other.load_state_dict(model.state_dict())
    lr = torch.rand(2, 3, 16, 40)
    with torch.no_grad():
        assert torch.equal(model(lr), other(lr))


def test_safetensors_round_trip_with_sidecar(model, tmp_path):
    path = tmp_path / "w.safetensors"
    sha = save_weights(model, path, {"epochs": 0, "note": "random init"})
    side = json.loads(path.with_suffix(".json").read_text())
    assert side["sha256"] == sha and side["metadata"]["epochs"] == 0
    assert side["config"]["num_blocks"] == model.config.num_blocks
    loaded = create_model("sgenet", pretrained=path)
    lr = torch.rand(1, 3, 16, 72)
    with torch.no_grad():
        assert torch.equal(model(lr), loaded(lr))


def test_config_travels_with_the_weights(tmp_path):
    small = create_model("sgenet", num_blocks=1)
    path = tmp_path / "one_block.safetensors"
    save_weights(small, path, {})
    assert len(create_model("sgenet", pretrained=path).blocks) == 1
    path.with_suffix(".json").unlink()  # without the sidecar the safetensors metadata is used
    assert len(create_model("sgenet", pretrained=path).blocks) == 1


def test_corrupt_or_missing_weights_are_model_errors(model, tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(model, path, {})
    with open(path, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        create_model("sgenet", pretrained=path)
    with pytest.raises(ModelError, match="not found"):
        create_model("sgenet", pretrained=tmp_path / "absent.safetensors")


def test_weights_of_another_architecture_are_a_model_error(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(create_model("sgenet", num_blocks=1), path, {})
    with pytest.raises(ModelError, match="does not fit"):
        create_model("sgenet", pretrained=path, num_blocks=2)


def test_pretrained_true_needs_shipped_weights(model, tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    assert not zoo.has_pretrained("sgenet")
    with pytest.raises(ModelError, match="no trained weights"):
        create_model("sgenet", pretrained=True)
    save_weights(model, tmp_path / "sgenet_x2.safetensors", {})
    assert zoo.has_pretrained("sgenet")
    assert create_model("sgenet", pretrained=True).config == model.config
    (tmp_path / "sgenet_x2.safetensors").write_bytes(b"tampered")
    with pytest.raises(ModelError, match="sha256"):
        create_model("sgenet", pretrained=True)


def test_unknown_names_and_options_are_usage_errors():
    assert zoo.list_models() == ["sgenet"]
    with pytest.raises(UsageError):
        create_model("nope")
    with pytest.raises(UsageError, match="blocks"):
        create_model("sgenet", blocks=3)


def test_exp_mish_is_mish_without_overflow():
    from torch import nn

    from sgenet_ocr.models.sgenet import ExpMish

    x = torch.cat([torch.linspace(-50, 50, 10001), torch.tensor([-1e4, -88.0, 88.0, 1e4])])
    got, want = ExpMish()(x), nn.Mish()(x)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)
