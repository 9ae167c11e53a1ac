"""ONNX export of SGENet (prior included): CLI, dynamic shapes, parity with PyTorch, the
``sgenet-onnx`` restorer and its export cache.

The weights are random but saved to a file like trained ones; the output convolution is
re-initialised with a larger spread so the whole network (not only the bicubic skip) shapes the
output and a wrong weight anywhere in the graph shows up in the parity checks.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import sgenet_ocr.models as zoo
from sgenet_ocr.export import main as export_main
from sgenet_ocr.export import read_metadata
from sgenet_ocr.models import create_model, save_weights
from sgenet_ocr.plugin_manager import PluginHost
from sgenet_ocr.restorers.bucketing import bucket_width, pad_batch, prepare_crop
from sgenet_ocr.restorers.onnx_cache import cache_path, cached_export, is_valid_export
from sgenet_ocr.restorers.onnx_restorer import make_session

PARITY_TOL = 1e-3


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: these models are small, and on a busy shared CPU a second thread
    mostly waits at barriers (many times slower). Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(11)
    model = create_model("sgenet")
    torch.nn.init.normal_(model.to_rgb.weight, std=0.02)
    path = tmp_path_factory.mktemp("weights") / "random.safetensors"
    save_weights(model, path, {"note": "random init, for export tests"})
    return path


@pytest.fixture(scope="module")
def torch_model(weights):
    return create_model("sgenet", pretrained=weights)


@pytest.fixture(scope="module")
def exported(weights, tmp_path_factory):
    """One export through the CLI, placed where the restorer's cache looks for it."""
    out = tmp_path_factory.mktemp("export") / "sgenet.onnx"
    assert export_main(["--format", "onnx", str(out), "--weights", str(weights)]) == 0
    cache_dir = tmp_path_factory.mktemp("cache")
    sha = json.loads(weights.with_suffix(".json").read_text())["sha256"]
    shutil.copy(out, cache_path(sha, cache_dir))
    return out, cache_dir


@pytest.fixture(scope="module")
def session(exported):
    return make_session(exported[0], threads=1)


def synthetic_crops(count: int, seed: int = 0) -> list[np.ndarray]:
    """Dark or light words drawn on noisy backgrounds, varied sizes: text-like without data."""
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        text = "".join(rng.choice(list("abcdefghkmnprstuvwxyzAEHKMR0123456789"), rng.integers(2, 12)))
        w, h = 8 + 7 * len(text), int(rng.integers(12, 40))
        bg, fg = (int(rng.integers(150, 256)), int(rng.integers(0, 100)))[:: 1 if i % 2 else -1]
        img = Image.new("RGB", (w, 16), (bg, bg - 10 if bg > 10 else bg, bg))
        ImageDraw.Draw(img).text((3, 2), text, fill=(fg, fg, fg))
        arr = np.asarray(img.resize((int(w * h / 16), h), Image.BICUBIC)).astype(np.int16)
        arr += rng.integers(-12, 13, arr.shape, dtype=np.int16)
        crops.append(np.clip(arr, 0, 255).astype(np.uint8))
    return crops


@pytest.fixture(scope="module")
def real_crops(shared_data):
    """Real word crops halved (small text, as a lower-resolution camera sees it)."""
    folder = shared_data / "ic15_words_dev" / "images"
    out = []
    for i in range(3, 400, 50):
        img = Image.open(folder / f"word_{i}.png").convert("RGB")
        out.append(np.asarray(img.resize((max(1, img.width // 2), max(1, img.height // 2)), Image.Resampling.BOX)))
    return out


def bucketed_batches(crops: list[np.ndarray], max_batch: int = 8) -> list[np.ndarray]:
    """Crops prepared as the restorers do, grouped into padded same-width batches."""
    groups: dict[int, list[np.ndarray]] = {}
    for crop in crops:
        small = prepare_crop(crop, 16)
        groups.setdefault(bucket_width(small.shape[1], 16), []).append(small)
    return [pad_batch(g[i:i + max_batch], width) for width, g in sorted(groups.items())
            for i in range(0, len(g), max_batch)]


def max_diff(session, model, batch: np.ndarray) -> float:
    got = session.run(["sr"], {"lr": batch})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(batch)).numpy()
    assert got.shape == want.shape == (batch.shape[0], 3, 32, 2 * batch.shape[3])
    return float(np.abs(got - want).max())


def test_metadata_names_the_weights_and_config(exported, weights, torch_model):
    meta = read_metadata(exported[0])
    assert meta["weights_sha256"] == json.loads(weights.with_suffix(".json").read_text())["sha256"]
    assert json.loads(meta["sgenet_config"])["channels"] == torch_model.config.channels
    assert is_valid_export(exported[0], meta["weights_sha256"])
    assert not is_valid_export(exported[0], "0" * 64)


def test_graph_has_symbolic_batch_and_width(session):
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert inp.name == "lr" and isinstance(inp.shape[0], str) and isinstance(inp.shape[3], str)
    assert inp.shape[1:3] == [3, 16] and out.shape[1:3] == [3, 32]


@pytest.mark.parametrize("batch,width", [(1, 64), (3, 100), (1, 256)])
def test_parity_on_random_inputs_at_several_widths_and_batches(session, torch_model, batch, width):
    lr = np.random.default_rng(width).random((batch, 3, 16, width), dtype=np.float32)
    assert max_diff(session, torch_model, lr) < PARITY_TOL


def test_parity_on_synthetic_crops(session, torch_model):
    batches = bucketed_batches(synthetic_crops(8))
    assert len({b.shape[3] for b in batches}) >= 3  # several widths in one graph
    assert max(max_diff(session, torch_model, b) for b in batches) < PARITY_TOL


@pytest.mark.needs_data
def test_parity_on_real_crops(session, torch_model, real_crops):
    batches = bucketed_batches(real_crops)
    assert len({b.shape[3] for b in batches}) >= 3
    assert max(max_diff(session, torch_model, b) for b in batches) < PARITY_TOL


def assert_same_crops(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    """Equal shapes; pixels within 1 grey level (a handful of rounding ties may differ more)."""
    assert len(a) == len(b)
    diffs = []
    for x, y in zip(a, b):
        assert x.shape == y.shape and x.dtype == y.dtype == np.uint8
        diffs.append(np.abs(x.astype(int) - y.astype(int)).ravel())
    d = np.concatenate(diffs)
    assert (d > 1).mean() < 1e-3 and d.max() <= 3


def test_restorer_by_name_matches_the_torch_restorer(exported, weights, real_crops_or_synthetic):
    host = PluginHost(entry_points=False)
    assert "sgenet-onnx" in host.restorers.names()
    assert host.restorers.owner("sgenet-onnx") == "sgenet_ocr.builtin"
    onnx_restorer = host.restorers.create("sgenet-onnx", weights=str(weights), cache_dir=str(exported[1]),
                                          batch_size=4, threads=1)
    assert onnx_restorer.onnx_path.parent == exported[1]  # the cached export, not a new one
    torch_restorer = host.restorers.create("sgenet", weights=str(weights), batch_size=4)
    crops = real_crops_or_synthetic
    assert_same_crops(onnx_restorer.restore(crops), torch_restorer.restore(crops))


@pytest.fixture(scope="module")
def guided_export(exported, weights, tmp_path_factory):
    """The SR branch alone (``--guided``), placed where the restorer's cache looks for it."""
    out = tmp_path_factory.mktemp("export") / "guided.onnx"
    assert export_main(["--format", "onnx", str(out), "--weights", str(weights), "--guided"]) == 0
    sha = json.loads(weights.with_suffix(".json").read_text())["sha256"]
    shutil.copy(out, cache_path(sha, exported[1], guided=True))
    return out


def test_guided_export_takes_the_priors_probabilities(guided_export, torch_model):
    meta = read_metadata(guided_export)
    assert meta["guided"] == "1" and json.loads(meta["prior_charset"]) == list(torch_model.prior.charset)
    session = make_session(guided_export, threads=1)
    assert [i.name for i in session.get_inputs()] == ["lr", "prior_probs"]
    for batch in bucketed_batches(synthetic_crops(8, seed=3)):
        with torch.no_grad():
            probs = torch_model.prior(torch.from_numpy(batch))
            want = torch_model(torch.from_numpy(batch), prior_probs=probs).numpy()
        got = session.run(["sr"], {"lr": batch, "prior_probs": probs.numpy()})[0]
        assert np.abs(got - want).max() < PARITY_TOL


def test_onnx_restorer_takes_engine_probabilities_like_the_torch_one(exported, weights, guided_export):
    host = PluginHost(entry_points=False)
    onnx_restorer = host.restorers.create("sgenet-onnx", weights=str(weights), cache_dir=str(exported[1]), threads=1)
    torch_restorer = host.restorers.create("sgenet", weights=str(weights), threads=1)
    assert onnx_restorer.guided_by == torch_restorer.guided_by == "ppocrv4_rec"
    assert onnx_restorer.prior_charset == torch_restorer.prior_charset
    assert onnx_restorer._guided_session is None  # no start-up cost until guidance is used
    crops = [c for c in synthetic_crops(12, seed=4) if c.shape[0] <= 16]
    rng = np.random.default_rng(0)
    probs = [rng.dirichlet(np.ones(len(torch_restorer.prior_charset)), int(rng.integers(3, 30))).astype(np.float32)
             for _ in crops]
    probs[0] = None  # this crop's prior runs: it is batched apart, with the full graph
    guided = onnx_restorer.restore(crops, prior_probs=probs)
    assert_same_crops(guided, torch_restorer.restore(crops, prior_probs=probs))
    assert_same_crops(guided[:1], onnx_restorer.restore(crops[:1]))
    assert any(not np.array_equal(a, b) for a, b in zip(guided[1:], onnx_restorer.restore(crops[1:])))


@pytest.fixture
def real_crops_or_synthetic(request):
    """Real word crops when the shared data is present, else synthetic ones (runs anywhere)."""
    from conftest import data_root

    if data_root() is not None:
        return request.getfixturevalue("real_crops")
    return synthetic_crops(10, seed=1)


def test_onnx_path_is_used_as_given(exported):
    restorer = PluginHost(entry_points=False).restorers.create("sgenet-onnx", onnx_path=str(exported[0]), threads=1)
    crops = synthetic_crops(3, seed=2)
    out = restorer.restore(crops)
    assert [o.shape[0] for o in out] == [32 if c.shape[0] <= 16 else 2 * c.shape[0] for c in crops]


def test_cli_refuses_without_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    assert export_main(["--format", "onnx", str(tmp_path / "x.onnx")]) == 6
    assert "--random-init" in capsys.readouterr().err
    assert export_main(["--format", "onnx", str(tmp_path / "x.onnx"), "--opset", "9"]) == 2
    assert not (tmp_path / "x.onnx").exists()


def test_cli_writes_only_an_onnx_file(tmp_path, capsys):
    """The output is checked before the export: never a folder, never the weights it reads."""
    from sgenet_ocr.models import PRETRAINED

    weights = tmp_path / "mine.safetensors"
    weights.write_bytes(PRETRAINED["sgenet"].weights_path.read_bytes())
    for output, message in ((tmp_path, "is a folder"), (weights, "not a file name ending in .onnx")):
        assert export_main([str(output), "--weights", str(weights)]) == 2
        assert message in capsys.readouterr().err
    assert weights.read_bytes() == PRETRAINED["sgenet"].weights_path.read_bytes()


def test_restorer_without_any_weights_says_what_to_do(tmp_path, monkeypatch):
    from sgenet_ocr.errors import ModelError

    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelError, match="bicubic"):
        PluginHost(entry_points=False).restorers.create("sgenet-onnx", cache_dir=str(tmp_path))


@pytest.mark.slow
def test_corrupt_cache_entry_is_rebuilt(exported, weights, tmp_path):
    sha = json.loads(weights.with_suffix(".json").read_text())["sha256"]
    target = cache_path(sha, tmp_path)
    target.write_bytes(b"not an onnx file")
    assert not is_valid_export(target, sha)
    assert cached_export(weights, tmp_path) == target
    assert is_valid_export(target, sha)


def test_a_cuda_provider_that_does_not_start_is_a_usage_error(exported, monkeypatch):
    """onnxruntime drops a CUDA provider it cannot load and runs on the CPU with a log line only:
    asked for cuda, the restorer says so instead of quietly running on the CPU."""
    import onnxruntime as ort

    from sgenet_ocr.errors import UsageError

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(UsageError, match="could not start its CUDA provider"):
        make_session(exported[0], device="cuda", threads=1)
