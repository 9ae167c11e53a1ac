"""GPU training kit: what a CUDA machine with no network needs to train SGENet, in one folder.

Build it here (``make gpu-kit``), carry it with the repository to the GPU machine, run one command
there::

    python -m sgenet_ocr.gpu_kit build --out gpu-kit            # here: ~44 MiB, sha256 manifest
    python3 -m sgenet_ocr.gpu_kit run --kit gpu-kit --minutes 7 --out OUT   # there
    python3 -m sgenet_ocr.gpu_kit run --kit gpu-kit --minutes 7 --out OUT \
        --recipe generic --recipe ppocr48 --recipe easyocr --archive          # three at once

The kit holds what such a machine lacks beyond torch, torchvision, onnx, pillow, numpy, pyyaml,
safetensors, opencv and tqdm: the training word crops (re-encoded as lossless WebP at the HR
training height, so the kit stays small; those too small to be HR targets are kept at their own size
as validation words), DejaVu
fonts for synthetic words, the prior's ONNX file (PP-OCRv4 rec, otherwise taken from the
rapidocr wheel) and onnx2torch as a wheel, packed from this environment's installed copy, and
EasyOCR's recogniser for EasyOCR-matched training (``--set loss.recogniser=easyocr_g2``): its
``english_g2.pth`` and easyocr's network code (``easyocr/model``, ``easyocr/config.py``, with
``packaging``), which need torch and torchvision only.

``run`` checks every file against the manifest, unpacks the wheels into a temporary folder,
points the priors and the font loader at the kit (``SGENET_PRIOR_ONNX``,
``SGENET_EASYOCR_MODELS``, ``SGENET_FONT_DIR``), puts the checkout's ``plugins/`` on the path,
trains with ``configs/sgenet_gpu.yaml`` (from the shipped weights by default) for the given
minutes and writes to ``--out``: the final EMA weights (``sgenet_x2.safetensors`` + ``.json``, the
shipped format), those of the best validation (``best_sgenet_x2.*``: the prior's word accuracy on
the kit's validation words, the ICDAR 2015 training crops too small to train on, halved as dev is;
the initial weights count, so a run that only got worse says so),
``log.csv``, ``config.yaml`` and ``validation.md``. With ``--check-device`` it
also runs the trained model on the validation crops on the CPU and on the training device and
records the largest pixel difference in ``device_check.json``.

A recipe (``--recipe``, ``configs/gpu_recipes.yaml``) names the overrides of one kind of weights:
``generic``, ``easyocr`` (EasyOCR-matched), ``ppocr48`` (PP-OCR-matched at 48 px). Given several,
``run`` trains them side by side on the one GPU, each in its own process writing to
``OUT/<recipe>/`` with its share of the CPU cores, and prints their progress once a minute; a GPU
lent for minutes then yields every kind of weights at once. ``--archive`` packs each recipe's
folder into ``OUT/<recipe>.tar``, one file per recipe to carry back.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

from .cli import ArgumentParser, run_cli
from .errors import SgenetOcrError, UsageError
from .models.weights import sha256_of

KIT_FORMAT = 4  # 2: carries EasyOCR's recogniser; 3: crops as lossless WebP; 4: dev-like validation words
# Lossless WebP: the same pixels as PNG in ~25% fewer bytes (13.0 instead of about 17.4 MiB of crops), the
# room a fourth shipped weights file needs in the 64 MiB a lent GPU receives. Method 4: method 6
# saves 0.4% more and takes 25 times as long.
CROP_FORMAT = {"format": "WEBP", "lossless": True, "quality": 100, "method": 4}
MANIFEST = "manifest.json"
GPU_CONFIG = Path(__file__).parent / "configs" / "sgenet_gpu.yaml"
RECIPES = Path(__file__).parent / "configs" / "gpu_recipes.yaml"
DEFAULT_RECIPE = "generic"
DEFAULT_CROPS = ("ic15_words_train", "iiit5k_train")
# Folders whose crops too small for training become the validation words (dev is ICDAR 2015).
DEFAULT_VALIDATION_CROPS = ("ic15_words_train",)
# Latin faces of matplotlib's bundle: sans, serif and mono, upright, bold and slanted (~4 MiB).
FONT_PATTERNS = ("DejaVuSans.ttf", "DejaVuSans-Bold*.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
                 "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")
CARRIED_WHEELS = ("onnx2torch", "packaging")  # packaging: easyocr's network code imports it
# easyocr's files that define english_g2's network; its package __init__ (the Reader) needs scipy,
# python-bidi and more, so the kit carries these under an __init__ of its own.
EASYOCR_NETWORK_FILES = ("config.py", "model/__init__.py", "model/modules.py", "model/vgg_model.py")
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"  # the checkout's engine plugins
# Side by side runs are stopped this long after their training budget (loading, validations and
# export come on top of it), so a lent machine's command limit never ends them unpacked.
STOP_GRACE_MINUTES = 1.5
RESULT_FILES = ("sgenet_x2.safetensors", "sgenet_x2.json", "best_sgenet_x2.safetensors", "best_sgenet_x2.json",
                "log.csv", "config.yaml")


# ----------------------------------------------------------------------------- build
def _prepare_out(out: Path) -> None:
    """An empty folder, or an earlier kit (replaced); never anything else the user owns."""
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"--out exists and is not a folder: {out}")
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise UsageError(f"--out is a non-empty folder that is not a GPU kit; refusing to overwrite: {out}")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def pack_crops(folder: Path, dest: Path, hr_height: int, min_height: int, max_height: int | None = None) -> int:
    """Copy a crops folder, each crop shrunk to ``hr_height`` (never enlarged) as lossless WebP; crops lower
    than ``min_height`` (never HR targets) or taller than ``max_height`` and don't-care labels are
    left out. Returns the count."""
    from PIL import Image

    from .data.crops import read_labels
    from .imaging import load_image

    (dest / "images").mkdir(parents=True)
    lines = []
    for name, text in read_labels(folder):
        if text == "###":
            continue
        image = load_image(folder / "images" / name)
        h, w = image.shape[:2]
        if h < min_height or (max_height is not None and h > max_height):
            continue
        pil = Image.fromarray(image)
        if h > hr_height:
            pil = pil.resize((max(1, round(w * hr_height / h)), hr_height), Image.Resampling.LANCZOS)
        packed = Path(name).with_suffix(".webp").name
        pil.save(dest / "images" / packed, **CROP_FORMAT)
        lines.append(f"{packed}\t{text}")
    (dest / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def pack_installed_wheel(dist_name: str, dest: Path) -> Path:
    """A pure-Python installed distribution re-packed as a wheel (its files and dist-info)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise UsageError(f"{dist_name} is not installed here: run 'make setup' first") from None
    files = [f for f in dist.files or [] if not str(f).startswith("..") and "__pycache__" not in str(f)]
    if any(str(f).endswith((".so", ".pyd")) for f in files):
        raise UsageError(f"{dist_name} has compiled parts: carry a platform wheel instead")
    name = dist.metadata["Name"].replace("-", "_")
    wheel = dest / f"{name}-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(files, key=str):
            source = Path(dist.locate_file(f))
            if source.is_file():
                zf.write(source, str(f))
    return wheel


def pack_easyocr_network(dest: Path) -> Path:
    """easyocr's network code as an installable zip (``easyocr/...`` with a bare ``__init__`` and
    easyocr's licence); the weights travel separately."""
    from importlib import metadata

    try:
        dist = metadata.distribution("easyocr")
    except metadata.PackageNotFoundError:
        raise UsageError("easyocr is not installed here: run 'make setup' first") from None
    package = Path(dist.locate_file("easyocr"))
    wheel = dest / f"easyocr_network-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("easyocr/__init__.py", '"""easyocr\'s recogniser network only, carried by the sgenet-ocr '
                                           'GPU kit (no Reader)."""\n')
        for rel in EASYOCR_NETWORK_FILES:
            zf.write(package / rel, f"easyocr/{rel}")
        licence = next((Path(dist.locate_file(f)) for f in dist.files or [] if Path(str(f)).name == "LICENSE"), None)
        if licence is not None:
            zf.write(licence, "easyocr/LICENSE")
    return wheel


def build(out: Path, data: Path, crops: list[str], hr_height: int = 32, min_height: int = 24,
          validation: list[str] = DEFAULT_VALIDATION_CROPS) -> dict:
    """Build the kit in ``out``; returns its manifest. The crops of the ``validation`` folders
    lower than ``min_height`` (never trained on) are kept at their own size as the validation
    words: the ``half`` protocol makes them dev-like words <= 12 px (``validation.data``)."""
    from sgenet_ocr_easyocr.engine import default_model_dir
    from sgenet_ocr_easyocr.prior import english_g2_weights
    from tqdm import tqdm

    from .data.synth import font_files
    from .models.prior_files import ppocr_rec_model_path

    folders = [data / name for name in crops]
    for folder in folders + [data / name for name in validation]:
        if not (folder / "labels.tsv").is_file():
            raise UsageError(f"not a crops folder (no labels.tsv): {folder}")
    _prepare_out(out)
    counts = {}
    for folder in tqdm(folders, desc="crops", unit="folder"):
        counts[folder.name] = pack_crops(folder, out / "crops" / folder.name, hr_height, min_height)
    judged = {name: pack_crops(data / name, out / "validation" / name, hr_height, 1, min_height - 1)
              for name in validation}
    (out / "prior").mkdir()
    prior = ppocr_rec_model_path()
    shutil.copy2(prior, out / "prior" / prior.name)
    (out / "fonts").mkdir()
    fonts = [Path(f) for f in font_files() if any(Path(f).match(p) for p in FONT_PATTERNS)]
    if not fonts:
        raise UsageError("no DejaVu fonts found (matplotlib's bundle): install the 'train' extra")
    for font in fonts:
        shutil.copy2(font, out / "fonts" / font.name)
    (out / "wheels").mkdir()
    for dist in CARRIED_WHEELS:
        pack_installed_wheel(dist, out / "wheels")
    pack_easyocr_network(out / "wheels")
    (out / "easyocr").mkdir()
    g2 = english_g2_weights(default_model_dir())  # the engine's own copy, whatever the environment says
    shutil.copy2(g2, out / "easyocr" / g2.name)
    files = {str(p.relative_to(out)): {"sha256": sha256_of(p), "bytes": p.stat().st_size}
             for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = {
        "format": KIT_FORMAT, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "hr_height": hr_height, "min_height": min_height, "crops": counts,
        "validation": {name: count for name, count in judged.items() if count},
        "prior": f"prior/{prior.name}", "easyocr_models": "easyocr", "total_bytes": sum(f["bytes"] for f in files.values()),
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


# ----------------------------------------------------------------------------- run
def verify_kit(kit: Path) -> dict:
    """The manifest, after checking that every file it lists is there with its sha256."""
    path = kit / MANIFEST
    if not path.is_file():
        raise UsageError(f"not a GPU kit (no {MANIFEST}): {kit}; build one with 'make gpu-kit'")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("format") != KIT_FORMAT:
        raise UsageError(f"{path}: kit format {manifest.get('format')!r}, expected {KIT_FORMAT}: rebuild it")
    from PIL import features

    if not features.check("webp"):
        raise UsageError("this Pillow cannot read WebP, the format of the kit's crops: use a Pillow built "
                         "with libwebp (every wheel on PyPI is)")
    for rel, entry in manifest["files"].items():
        f = kit / rel
        if not f.is_file():
            raise UsageError(f"GPU kit incomplete: {rel} is missing")
        if f.stat().st_size != entry["bytes"] or sha256_of(f) != entry["sha256"]:
            raise UsageError(f"GPU kit corrupt: {rel} does not match its sha256")
    return manifest


def install_kit(kit: Path, manifest: dict, site: Path) -> None:
    """Unpack the carried wheels into ``site`` (put first on ``sys.path``, the checkout's plugins
    after it) and point the priors and the synthetic-word fonts at the kit's copies."""
    from .data.synth import FONT_DIR_ENV
    from .models.prior_files import PRIOR_ONNX_ENV

    for wheel in sorted((kit / "wheels").glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site)
    sys.path[:0] = [str(site), str(PLUGINS)]
    from sgenet_ocr_easyocr.prior import MODELS_ENV

    os.environ[PRIOR_ONNX_ENV] = str((kit / manifest["prior"]).resolve())
    os.environ[MODELS_ENV] = str((kit / manifest["easyocr_models"]).resolve())
    os.environ[FONT_DIR_ENV] = str((kit / "fonts").resolve())


def validation_table(log: Path) -> str:
    """Markdown table of the validation rows of a training log (prior's word accuracy)."""
    rows = [r for r in csv.DictReader(log.open()) if r["kind"] == "val"]
    train = [r for r in csv.DictReader(log.open()) if r["kind"] == "train" and r.get("samples_per_s")]
    lines = ["| step | minutes | L1 | PSNR | prior acc SR | bicubic | HR | words vs start |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['step']} | {float(r['minutes']):.1f} | {float(r['val_l1']):.4f} | "
                     f"{float(r['val_psnr']):.2f} | {float(r['val_acc_sr']):.3f} | "
                     f"{float(r['val_acc_bicubic']):.3f} | {float(r['val_acc_hr']):.3f} | "
                     f"{r.get('val_vs_start') or '-'} |")
    if rows:
        best = max(rows, key=lambda r: float(r["val_acc_sr"]))  # first of equals, as the trainer keeps it
        lines += ["", f"best validation (best_sgenet_x2.*): step {best['step']}, prior acc SR "
                      f"{float(best['val_acc_sr']):.3f}"]
    if train:
        rates = sorted(float(r["samples_per_s"]) for r in train)
        lines.append("")
        lines.append(f"training throughput: median {rates[len(rates) // 2]:.0f} samples/s "
                     f"over {len(train)} log windows")
    return "\n".join(lines) + "\n"


def device_check(weights: Path, device: str, crops_folder: Path, limit: int = 32) -> dict:
    """The ``sgenet`` restorer on the CPU and on ``device`` over the same small crops (12 px):
    the largest pixel difference between the two, and each one's time."""
    import numpy as np

    from .data.crops import load_crops
    from .imaging import resize
    from .restorers.sgenet_restorer import SgenetRestorer

    crops = [c.image for c in load_crops(crops_folder, limit=limit)]
    small = [resize(c, round(c.shape[1] * 12 / c.shape[0]), 12) for c in crops]
    outputs, seconds = [], []
    for dev in ("cpu", device):
        restorer = SgenetRestorer(weights=str(weights), device=dev)
        start = time.perf_counter()
        outputs.append(restorer.restore(small))
        seconds.append(time.perf_counter() - start)
    diffs = [int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(*outputs)]
    return {"device": device, "crops": len(small), "max_abs_diff": max(diffs),
            "mean_max_abs_diff": float(np.mean(diffs)), "seconds_cpu": seconds[0], "seconds_device": seconds[1]}


def load_recipes() -> dict[str, dict]:
    """``configs/gpu_recipes.yaml``: recipe name -> ``{"about": str, "set": [KEY=VALUE, ...]}``."""
    import yaml

    return yaml.safe_load(RECIPES.read_text())


def recipe_overrides(name: str) -> list[str]:
    """The config overrides of a named recipe (recorded as ``recipe`` in the run's config)."""
    recipes = load_recipes()
    if name not in recipes:
        raise UsageError(f"unknown recipe {name!r}; known: {', '.join(recipes)}")
    return [f"recipe={name}", *recipes[name]["set"]]


def _check_minutes(minutes: float) -> None:
    """Before any folder is made (the training config would refuse it only after)."""
    if not minutes > 0:
        raise UsageError(f"--minutes must be > 0, not {minutes:g}")


def _require_new_folder(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"--out must be a new or empty folder: {out}")
    out.mkdir(parents=True, exist_ok=True)


def run(kit: Path, out: Path, minutes: float, device: str = "auto", config: str | None = None,
        overrides: list[str] = (), max_steps: int | None = None, check_device: bool = False,
        recipe: str = DEFAULT_RECIPE) -> dict:
    """Train one recipe from the kit; returns the final validation result."""
    _check_minutes(minutes)
    manifest = verify_kit(kit)
    sets = [f"device={device}", f"train.max_minutes={minutes}", f"data.min_hr_height={manifest['min_height']}"]
    if max_steps is not None:
        sets.append(f"train.max_steps={max_steps}")
    sets += recipe_overrides(recipe)  # checked before anything is written
    _require_new_folder(out)
    # A SIGTERM (run_recipes' deadline) is never fatal here: before training it makes the run stop
    # at its first batch, after it lets the device check finish; the trainer handles it in between.
    stopped: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: stopped.append(signum))
    try:
        return _run_from_kit(kit, out, manifest, sets, config, overrides, check_device, stopped)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_from_kit(kit: Path, out: Path, manifest: dict, sets: list[str], config: str | None,
                  overrides: list[str], check_device: bool, stopped: list[int]) -> dict:
    with tempfile.TemporaryDirectory(prefix="sgenet-kit-") as tmp:
        install_kit(kit, manifest, Path(tmp) / "site")
        import yaml

        from .train import Trainer, load_config

        crops = [str((kit / "crops" / name).resolve()) for name in manifest["crops"]]
        judged = [str((kit / "validation" / name).resolve()) for name in manifest["validation"]]
        if judged:  # dev-like words (the half protocol on small crops) choose the best checkpoint
            sets = [f"validation.data={json.dumps(judged)}", f"validation.max_crop_height={manifest['min_height'] - 1}",
                    *sets]
        cfg = load_config(config or GPU_CONFIG, [f"data.train={json.dumps(crops)}", *sets, *overrides])
        work = Path(tmp) / "run"  # checkpoints stay here: only the results travel back
        work.mkdir()
        (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        try:
            trainer = Trainer(cfg, work)
            if stopped:
                print(f"signal {stopped[0]} while loading: stopping at the first batch", flush=True)
                trainer.stop(stopped[0])
            result = trainer.run()
        finally:
            # A crash mid-run still brings back its last checkpoint's weights and its log.
            for name in RESULT_FILES:
                if (work / name).is_file():
                    shutil.copyfile(work / name, out / name)
            if (out / "log.csv").is_file():
                (out / "validation.md").write_text(validation_table(out / "log.csv"))
        if check_device and trainer.device.type != "cpu":
            import torch

            # Training turned TF32 matmuls on; inference runs with torch's defaults (TF32 convs only).
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = False, True
            check = device_check(out / "sgenet_x2.safetensors", str(trainer.device), Path(crops[0]))
            (out / "device_check.json").write_text(json.dumps(check, indent=2) + "\n")
            print(f"device check: max |cpu - {check['device']}| = {check['max_abs_diff']} grey levels "
                  f"over {check['crops']} crops", flush=True)
    print(f"results in {out}: {', '.join(sorted(p.name for p in out.iterdir()))}", flush=True)
    return result


def cpu_share(recipes: int, cpus: int | None = None) -> dict[str, int]:
    """Loader workers and torch threads for each of ``recipes`` runs sharing the machine's cores:
    the degradation workers take most of them, each process keeps a core to drive its GPU work."""
    cpus = cpus or os.cpu_count() or 1
    return {"workers": max(1, (cpus - recipes) // recipes), "threads": max(1, cpus // (4 * recipes))}


def _last_status(log: Path) -> str:
    """The last progress line a run wrote (tqdm redraws a line with carriage returns)."""
    if not log.is_file():
        return "starting"
    tail = log.read_bytes()[-4000:].decode("utf-8", "replace")
    parts = [p.strip() for p in tail.replace("\r", "\n").split("\n") if p.strip()]
    return parts[-1][:160] if parts else "starting"


def supervise(procs: dict[str, subprocess.Popen], stop_after: float | None, poll_seconds: float,
              report: Callable[[], None]) -> list[str]:
    """Wait for every process, calling ``report`` every ``poll_seconds``. Past ``stop_after``
    minutes, SIGTERM the ones still running, once: a run then stops at its next batch and saves
    what it has. Returns the names of those it had to stop."""
    start = last = time.monotonic()
    stopped: list[str] = []
    while any(proc.poll() is None for proc in procs.values()):
        time.sleep(min(1.0, poll_seconds))
        now = time.monotonic()
        if stop_after is not None and not stopped and now - start >= stop_after * 60:
            stopped = [name for name, proc in procs.items() if proc.poll() is None]
            print(f"[{(now - start) / 60:4.1f} min] past --stop-after {stop_after:g}: stopping "
                  f"{', '.join(stopped)} (each saves what it has)", flush=True)
            for name in stopped:
                procs[name].send_signal(signal.SIGTERM)
        if now - last >= poll_seconds:
            last = now
            report()
    return stopped


def run_recipes(kit: Path, out: Path, minutes: float, recipes: list[str], device: str = "auto",
                config: str | None = None, overrides: list[str] = (), max_steps: int | None = None,
                check_device: bool = False, archive: bool = False, poll_seconds: float = 60.0,
                stop_after: float | None = None) -> None:
    """Train several recipes side by side, each in its own process (``OUT/<recipe>/``, its output in
    ``train.log``); with ``archive`` each folder becomes ``OUT/<recipe>.tar``. A SIGTERM or Ctrl-C
    is passed on, so each run still saves what it has; so is ``stop_after`` minutes of wall clock,
    loading included (:func:`supervise`), so the results are packed before a lent machine's time
    limit ends the command. Raises if any run failed, after packing."""
    if len(set(recipes)) != len(recipes):
        raise UsageError(f"a recipe is named twice: {' '.join(recipes)}")
    _check_minutes(minutes)
    if stop_after is not None and not stop_after > 0:
        raise UsageError(f"--stop-after must be > 0 (or 0 on the command line: never), not {stop_after:g}")
    for name in recipes:
        recipe_overrides(name)
    verify_kit(kit)
    _require_new_folder(out)
    out, kit = out.resolve(), kit.resolve()
    share = cpu_share(len(recipes))
    python = [sys.executable, *(["-S"] if sys.flags.no_site else [])]  # as this process was started
    procs = {}
    for name in recipes:
        cmd = [*python, "-m", "sgenet_ocr.gpu_kit", "run", "--kit", str(kit), "--out", str(out / name),
               "--minutes", str(minutes), "--device", device, "--recipe", name,
               "--set", f"data.num_workers={share['workers']}", "--set", f"threads={share['threads']}"]
        cmd += [*(["--config", str(Path(config).resolve())] if config else []),
                *(["--max-steps", str(max_steps)] if max_steps is not None else []),
                *(["--check-device"] if check_device else []), *[a for o in overrides for a in ("--set", o)]]
        log = (out / f"{name}.log").open("wb")
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=PLUGINS.parent), log)
    print(f"training {', '.join(recipes)} side by side for {minutes:g} min: {share['workers']} loader "
          f"workers and {share['threads']} torch threads each; output in {out}/<recipe>.log", flush=True)

    def pass_on(signum, _frame):
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.send_signal(signum)

    def report():
        for name, (proc, _) in procs.items():
            state = "running" if proc.poll() is None else f"exit {proc.returncode}"
            print(f"[{(time.monotonic() - start) / 60:4.1f} min] {name} ({state}): "
                  f"{_last_status(out / f'{name}.log')}", flush=True)

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGTERM, signal.SIGINT)}
    start = time.monotonic()
    try:
        supervise({name: proc for name, (proc, _) in procs.items()}, stop_after, poll_seconds, report)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    report()
    failed = []
    for name, (proc, log) in procs.items():
        log.close()
        folder = out / name
        folder.mkdir(exist_ok=True)
        (out / f"{name}.log").replace(folder / "train.log")
        if proc.returncode != 0:
            failed.append(f"{name} (exit {proc.returncode})")
        if (folder / "validation.md").is_file():
            print(f"\n## {name}\n{(folder / 'validation.md').read_text()}", flush=True)
        if archive:
            with tarfile.open(out / f"{name}.tar", "w") as tar:
                tar.add(folder, arcname=name)
            shutil.rmtree(folder)
    print(f"results in {out}: {', '.join(sorted(p.name for p in out.iterdir()))}", flush=True)
    if failed:
        raise SgenetOcrError(f"recipe run failed: {', '.join(failed)}; its train.log says why")


# ----------------------------------------------------------------------------- CLI
def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m sgenet_ocr.gpu_kit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the kit (here, with ../shared/data beside the checkout)")
    b.add_argument("--out", required=True, help="kit folder (replaced if it is an earlier kit)")
    b.add_argument("--data", default=os.environ.get("SGENET_DATA", "../shared/data"),
                   help="folder holding the crop folders (default: $SGENET_DATA or ../shared/data)")
    b.add_argument("--crops", nargs="+", default=list(DEFAULT_CROPS), help="crop folders under --data")
    b.add_argument("--hr-height", type=int, default=32, help="height the crops are stored at")
    b.add_argument("--min-height", type=int, default=24, help="train on crops at least this tall")
    b.add_argument("--validation-crops", nargs="*", default=list(DEFAULT_VALIDATION_CROPS),
                   help="crop folders under --data whose crops lower than --min-height are the validation words")
    r = sub.add_parser("run", help="train from a kit (on the GPU machine)")
    r.add_argument("--kit", required=True, help="the kit folder")
    r.add_argument("--out", required=True, help="new or empty folder for the results")
    r.add_argument("--minutes", type=float, required=True,
                   help="training budget, wall clock (loading, validation and export come on top)")
    r.add_argument("--device", default="auto", help="auto (cuda when present), cuda, cpu")
    r.add_argument("--config", help=f"training config (default: {GPU_CONFIG.name})")
    r.add_argument("--recipe", action="append", metavar="NAME",
                   help=f"named overrides from {RECIPES.name}: " + ", ".join(load_recipes())
                        + f" (default: {DEFAULT_RECIPE}); several train side by side, each in OUT/NAME/")
    r.add_argument("--archive", action="store_true", help="pack each recipe's results into OUT/NAME.tar")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    r.add_argument("--from-scratch", action="store_true", help="random init instead of the shipped weights")
    r.add_argument("--max-steps", type=int, help="stop after this many steps too")
    r.add_argument("--check-device", action="store_true",
                   help="also compare the restorer's output on the CPU and on the training device")
    r.add_argument("--stop-after", type=float, metavar="MINUTES",
                   help=f"side by side runs: stop those still running after this many minutes of wall "
                        f"clock, loading included (default: --minutes + {STOP_GRACE_MINUTES:g}; 0: never)")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_cli("gpu-kit", _main, argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "build":
        manifest = build(Path(args.out), Path(args.data), args.crops, args.hr_height, args.min_height,
                         args.validation_crops)
        print(f"GPU kit in {args.out}: {manifest['total_bytes'] / 2**20:.1f} MiB, "
              f"{sum(manifest['crops'].values())} training crops, {sum(manifest['validation'].values())} "
              f"validation words, {len(manifest['files'])} files")
    else:
        sets = list(args.set) + (["model.init_weights=null"] if args.from_scratch else [])
        recipes = args.recipe or [DEFAULT_RECIPE]
        if len(recipes) > 1 or args.archive:
            stop_after = args.minutes + STOP_GRACE_MINUTES if args.stop_after is None else args.stop_after or None
            run_recipes(Path(args.kit), Path(args.out), args.minutes, recipes, args.device, args.config, sets,
                        args.max_steps, args.check_device, args.archive, stop_after=stop_after)
        else:
            run(Path(args.kit), Path(args.out), args.minutes, args.device, args.config, sets,
                args.max_steps, args.check_device, recipes[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
