"""The GPU kit: build a tiny one, then run its entry point as the GPU machine would, on the CPU,
seeing only the kit and the packages that machine has (so a missing piece fails here)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement
from PIL import Image

from sgenet_ocr import gpu_kit
from sgenet_ocr.errors import UsageError

REPO = Path(__file__).resolve().parents[1]
# What the GPU machine's python3 has (issue 13); their own dependencies come along.
TARGET_PACKAGES = ("torch", "torchvision", "onnx", "onnxruntime", "pillow", "numpy", "pyyaml", "safetensors",
                   "opencv-contrib-python-headless", "pluggy", "tqdm")


def target_site(dest: Path) -> Path:
    """A folder of links to the target packages and their dependencies, nothing else."""
    seen, todo = set(), list(TARGET_PACKAGES)
    dest.mkdir()
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(name)
        for req in map(Requirement, dist.requires or []):
            if not req.marker or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            link = dest / top
            if not link.exists():
                link.symlink_to(dist.locate_file(top))
    return dest


def write_crops(folder: Path, count: int, heights=(40, 20)) -> None:
    """A crops folder of rendered words: tall ones (kept, shrunk to 32) and short ones (left out)."""
    from sgenet_ocr.data.synth import render_word

    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True)
    lines = []
    for i in range(count):
        word = ["OPEN", "exit", "Cafe", "2024"][i % 4]
        image = Image.fromarray(render_word(word, rng))
        height = heights[i % len(heights)]
        image = image.resize((max(8, image.width * height // image.height), height))
        image.save(folder / "images" / f"w{i}.jpg")
        lines.append(f"w{i}.jpg\t{word}")
    lines.append("dc.jpg\t###")
    Image.new("RGB", (60, 40), "white").save(folder / "images" / "dc.jpg")
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def tiny_kit(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kit")
    write_crops(root / "data" / "words", 24)
    manifest = gpu_kit.build(root / "kit", root / "data", ["words"], validation=["words"])
    assert manifest["crops"] == {"words": 12}  # the 20 px crops and the don't-care mark are out
    assert manifest["validation"] == {"words": 12}  # the 20 px crops: the validation words
    return root / "kit"


def test_build_contents(tiny_kit):
    manifest = json.loads((tiny_kit / "manifest.json").read_text())
    packed = sorted((tiny_kit / "crops" / "words" / "images").iterdir())
    assert len(packed) == 12 and {p.suffix for p in packed} == {".webp"}
    for path in packed:  # lossless: exactly the source crop shrunk to 32 px
        with Image.open(path) as image:
            assert image.height == 32
            source = Image.open(tiny_kit.parent / "data" / "words" / "images" / f"{path.stem}.jpg").convert("RGB")
            want = source.resize((round(source.width * 32 / source.height), 32), Image.Resampling.LANCZOS)
            assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(want))
    judged = sorted((tiny_kit / "validation" / "words" / "images").iterdir())
    assert len(judged) == 12
    for path in judged:  # the small crops as they are, never trained on: halved, they are dev-like
        with Image.open(path) as image:
            source = Image.open(tiny_kit.parent / "data" / "words" / "images" / f"{path.stem}.jpg").convert("RGB")
            assert image.height == 20 and np.array_equal(np.asarray(image.convert("RGB")), np.asarray(source))
    assert not {p.name for p in judged} & {p.name for p in packed}
    assert (tiny_kit / manifest["prior"]).stat().st_size > 1_000_000
    assert list((tiny_kit / "wheels").glob("onnx2torch-*-py3-none-any.whl"))
    assert (tiny_kit / manifest["easyocr_models"] / "english_g2.pth").stat().st_size > 1_000_000
    assert list((tiny_kit / "fonts").glob("DejaVuSans*.ttf"))
    assert set(manifest["files"]) == {str(p.relative_to(tiny_kit)) for p in tiny_kit.rglob("*")
                                      if p.is_file() and p.name != "manifest.json"}
    gpu_kit.verify_kit(tiny_kit)


def test_kit_corruption_and_overwrite_refused(tiny_kit, tmp_path):
    import shutil

    kit = tmp_path / "kit"
    shutil.copytree(tiny_kit, kit)
    (kit / "fonts" / "DejaVuSans.ttf").write_bytes(b"not a font")
    with pytest.raises(UsageError, match="corrupt: fonts/DejaVuSans.ttf"):
        gpu_kit.verify_kit(kit)
    owned = tmp_path / "mine"
    owned.mkdir()
    (owned / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        gpu_kit.build(owned, tiny_kit.parent / "data", ["words"], validation=["words"])
    assert (owned / "notes.txt").read_text() == "keep me"


def test_kit_needs_webp(tiny_kit, monkeypatch):
    from PIL import features

    monkeypatch.setattr(features, "check", lambda name: name != "webp")
    with pytest.raises(UsageError, match="cannot read WebP"):
        gpu_kit.verify_kit(tiny_kit)


def kit_command(tiny_kit: Path, out: Path, *args: str) -> list[str]:
    """The kit's run command on the CPU for a few steps of tiny batches, as a GPU machine's python3
    would start it: -S, no site-packages (so no rapidocr, easyocr, onnx2torch, matplotlib or lmdb)."""
    return [sys.executable, "-S", "-m", "sgenet_ocr.gpu_kit", "run", "--kit", str(tiny_kit), "--out", str(out),
            "--minutes", "5", "--device", "cpu", "--max-steps", "3",
            "--set", "train.batch_size=4", "--set", "data.val_count=2", "--set", "data.num_workers=1",
            "--set", "data.synth_fraction=0.2", "--set", "log.log_every_steps=1", *args]


def run_on_target_packages(cmd: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SGENET_"))}
    env.update(PYTHONPATH=str(target_site(tmp_path / "site")), OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def check_results(out: Path, recipe: str) -> None:
    """A run's folder: the shipped-format weights after 3 steps, loadable by create_model."""
    import yaml

    from sgenet_ocr.models import create_model

    side = json.loads((out / "sgenet_x2.json").read_text())
    assert side["metadata"]["steps"] == 3
    best = json.loads((out / "best_sgenet_x2.json").read_text())["metadata"]["validation"]
    assert best["acc_sr"] >= side["metadata"]["validation"]["acc_sr"]
    assert side["metadata"]["init_from"]["sha256"]  # fine-tuned from shipped weights
    report = (out / "validation.md").read_text()
    assert "samples/s" in report and re.search(r"words? vs step 0 \(fixed", report)  # the last validation vs the first
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["recipe"] == recipe
    # The kit's small crops, halved as dev is, chose the best weights.
    assert config["validation"]["data"][0].endswith("validation/words") and config["validation"]["max_crop_height"] == 23
    assert "half protocol on words crops <= 23 px" in best["selected_by"]
    for override in gpu_kit.load_recipes()[recipe]["set"]:  # the recipe is what was trained
        key, value = override.split("=", 1)
        node = config
        for part in key.split("."):
            node = node[part]
        assert node == yaml.safe_load(value), override
    model = create_model("sgenet", pretrained=out / "sgenet_x2.safetensors")
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.slow
def test_run_on_cpu_with_target_packages_only(tiny_kit, tmp_path):
    """The default recipe (PP-OCRv4 prior, from the rapidocr model the kit carries)."""
    out = tmp_path / "out"
    run_on_target_packages(kit_command(tiny_kit, out), tmp_path)
    assert sorted(p.name for p in out.iterdir()) == sorted([*gpu_kit.RESULT_FILES, "validation.md"])
    check_results(out, "generic")


@pytest.mark.slow
def test_recipes_train_side_by_side_and_pack_one_file_each(tiny_kit, tmp_path):
    """The matched recipes at once: EasyOCR's (english_g2 reads for the text losses; no easyocr
    package there) and PP-OCR's at 48 px (crop base, zeroed correction), each packed in a tar."""
    import tarfile

    out = tmp_path / "out"
    done = run_on_target_packages(kit_command(tiny_kit, out, "--recipe", "easyocr", "--recipe", "ppocr48",
                                              "--archive"), tmp_path)
    assert "training easyocr, ppocr48 side by side" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["easyocr.tar", "ppocr48.tar"]
    for recipe in ("easyocr", "ppocr48"):
        with tarfile.open(out / f"{recipe}.tar") as tar:
            tar.extractall(tmp_path / "unpacked", filter="data")
        folder = tmp_path / "unpacked" / recipe
        assert sorted(p.name for p in folder.iterdir()) == sorted([*gpu_kit.RESULT_FILES, "validation.md",
                                                                   "train.log"])
        check_results(folder, recipe)
    meta = json.loads((tmp_path / "unpacked" / "ppocr48" / "sgenet_x2.json").read_text())
    assert meta["metadata"]["scale"] == 3


@pytest.mark.slow
def test_a_run_stopped_by_the_deadline_while_loading_still_saves_and_packs(tiny_kit, tmp_path):
    """--stop-after reached before training starts: the run stops at its first batch and its
    results are packed, instead of the signal killing it with nothing saved."""
    import tarfile

    out = tmp_path / "out"
    done = run_on_target_packages(kit_command(tiny_kit, out, "--recipe", "generic", "--archive",
                                              "--stop-after", "0.01"), tmp_path)
    assert "past --stop-after 0.01: stopping generic" in done.stdout
    with tarfile.open(out / "generic.tar") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    folder = tmp_path / "unpacked" / "generic"
    assert "while loading: stopping at the first batch" in (folder / "train.log").read_text()
    meta = json.loads((folder / "sgenet_x2.json").read_text())["metadata"]
    assert meta["steps"] == 0 and meta["validation"]["acc_sr"] >= 0


def test_recipes_are_checked_before_anything_runs(tiny_kit, tmp_path):
    with pytest.raises(UsageError, match="unknown recipe 'ppocr'; known: generic, easyocr, ppocr48"):
        gpu_kit.run_recipes(tiny_kit, tmp_path / "a", 1, ["generic", "ppocr"])
    with pytest.raises(UsageError, match="named twice"):
        gpu_kit.run_recipes(tiny_kit, tmp_path / "b", 1, ["generic", "generic"])
    with pytest.raises(UsageError, match="unknown recipe"):
        gpu_kit.run(tiny_kit, tmp_path / "c", 1, recipe="nope")
    with pytest.raises(UsageError, match="--minutes must be > 0, not -1"):
        gpu_kit.run_recipes(tiny_kit, tmp_path / "d", -1, ["generic", "easyocr"])
    with pytest.raises(UsageError, match="--minutes must be > 0, not 0"):
        gpu_kit.run(tiny_kit, tmp_path / "f", 0)
    with pytest.raises(UsageError, match="--stop-after must be > 0"):
        gpu_kit.run_recipes(tiny_kit, tmp_path / "e", 1, ["generic", "easyocr"], stop_after=-2)
    assert not any(tmp_path.iterdir())  # nothing written


def test_runs_past_their_deadline_are_stopped_and_save(tmp_path):
    """supervise() SIGTERMs the runs still going at --stop-after, once; a run that ends by itself
    is left alone. The stand-ins save on SIGTERM, as the trainer does."""
    script = ("import signal, sys, time\n"
              "def save(*_):\n    open(sys.argv[1], 'w').write('saved'); sys.exit(0)\n"
              "signal.signal(signal.SIGTERM, save)\n"
              "time.sleep(float(sys.argv[2]))\n")
    procs = {name: subprocess.Popen([sys.executable, "-c", script, str(tmp_path / name), seconds])
             for name, seconds in (("quick", "0.2"), ("slow", "60"))}
    reports = []
    stopped = gpu_kit.supervise(procs, stop_after=2 / 60, poll_seconds=0.5, report=lambda: reports.append(1))
    assert stopped == ["slow"] and procs["slow"].returncode == 0 and procs["quick"].returncode == 0
    assert (tmp_path / "slow").read_text() == "saved" and not (tmp_path / "quick").exists()
    assert reports  # progress was reported while waiting


def test_stop_after_defaults_to_the_budget_plus_grace(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(gpu_kit, "run_recipes", lambda *a, **kw: seen.update(kw))
    base = ["run", "--kit", "k", "--out", str(tmp_path / "o"), "--minutes", "7", "--recipe", "generic", "--archive"]
    gpu_kit.main(base)
    assert seen["stop_after"] == 7 + gpu_kit.STOP_GRACE_MINUTES
    gpu_kit.main([*base, "--stop-after", "0"])
    assert seen["stop_after"] is None


def test_side_by_side_runs_share_the_cores():
    assert gpu_kit.cpu_share(1, cpus=16) == {"workers": 15, "threads": 4}
    assert gpu_kit.cpu_share(3, cpus=16) == {"workers": 4, "threads": 1}
    assert gpu_kit.cpu_share(3, cpus=2) == {"workers": 1, "threads": 1}


def test_run_refuses_a_used_out_folder(tiny_kit, tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(UsageError, match="new or empty"):
        gpu_kit.run(tiny_kit, tmp_path, minutes=1)


def test_device_check_runs_the_restorer(tiny_kit):
    """On this CPU-only machine the check compares the CPU with itself: the code path a GPU run takes."""
    from sgenet_ocr.models import PRETRAINED

    check = gpu_kit.device_check(PRETRAINED["sgenet"].weights_path, "cpu", tiny_kit / "crops" / "words", limit=4)
    assert check["crops"] == 4 and check["max_abs_diff"] == 0
