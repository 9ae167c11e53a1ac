"""The crops a run trains and validates on, and what its data loader may hold in flight."""
from __future__ import annotations

import shutil
import signal
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..data.crops import Crop, load_crops
from ..data.degrade import DegradeConfig
from ..data.pairs import PairDataset, collate
from ..errors import UsageError
from ..metrics import normalize_text
from .config import resolve_data_path


def build_crops(cfg: dict) -> tuple[list[Crop], list[Crop]]:
    """Train and validation crops, plus synthetic words if asked.

    Validation holds out ``data.val_count`` training crops (seeded split), or, with
    ``validation.data``, takes the crops of those folders that are at most
    ``validation.max_crop_height`` tall and trains on every training crop. Then
    ``data.small_word_share`` of those small words (seeded split) are trained on instead, made
    small by ``validation.protocol`` like the rest and repeated ``data.small_word_repeat`` times
    in the pool: real small words, the kind the evaluation reads, beside simulated ones.
    """
    data = cfg["data"]
    folders = [resolve_data_path(s) for s in data["train"]]
    crops = load_crops(folders, min_height=int(data["min_hr_height"]))
    if not crops:
        raise UsageError("no training crops found in " + ", ".join(map(str, folders)))
    share = float(data.get("small_word_share") or 0.0)
    judged_elsewhere = bool((cfg.get("validation") or {}).get("data"))
    if share and not judged_elsewhere:
        raise UsageError("data.small_word_share takes its words from validation.data: set it too")
    if judged_elsewhere:
        train, val = crops, validation_crops(cfg, folders)
        if share:
            small, val = split_small_words(val, share, int(cfg["seed"]))
            marked = [replace(c, protocol=validation_protocol(cfg)) for c in small]
            train = train + marked * int(data.get("small_word_repeat", 1))
    else:
        order = np.random.default_rng(cfg["seed"]).permutation(len(crops))
        val_count = min(int(data["val_count"]), len(crops) // 5)
        val = [crops[i] for i in order[:val_count]]
        train = [crops[i] for i in order[val_count:]]
    fraction = float(data.get("synth_fraction", 0.0))  # in [0, 1): config.RANGES
    if fraction > 0:
        from ..data.synth import render_words

        # Synthetic share of the pool = fraction; labels half from the real train words.
        count = int(round(fraction / (1.0 - fraction) * len(train)))
        train += render_words(count, seed=int(data.get("synth_seed", 1)), words=[c.label for c in train])
    return train, val


def validation_crops(cfg: dict, train_folders: list[Path]) -> list[Crop]:
    """The crops of ``validation.data`` at most ``validation.max_crop_height`` px tall.

    Crops of a training folder qualify only below ``data.min_hr_height``, so no validation word
    is ever trained on: the training folders' small crops, unused as SR targets, are words like
    the dev set's small ones (camera-small, then halved by the ``half`` protocol).
    """
    vcfg = cfg["validation"]
    folders = [resolve_data_path(s) for s in vcfg["data"]]
    max_height = vcfg.get("max_crop_height")
    shared = {f.resolve() for f in folders} & {f.resolve() for f in train_folders}
    if shared and (max_height is None or max_height >= int(cfg["data"]["min_hr_height"])):
        raise UsageError(f"validation.data shares {', '.join(sorted(f.name for f in shared))} with data.train: "
                         f"set validation.max_crop_height below data.min_hr_height "
                         f"({cfg['data']['min_hr_height']}) so no validation crop is trained on")
    crops = [c for c in load_crops(folders) if normalize_text(c.label)
             and (max_height is None or c.height <= max_height)]
    if not crops:
        raise UsageError("no validation crops in " + ", ".join(map(str, folders))
                         + (f" at most {max_height} px tall" if max_height else ""))
    return crops


def split_small_words(crops: list[Crop], share: float, seed: int) -> tuple[list[Crop], list[Crop]]:
    """``(trained, validated)``: a seeded ``share`` of the small words to train on, the rest to
    validate on (at least one each)."""
    order = np.random.default_rng([seed, 1]).permutation(len(crops))
    count = min(max(1, int(round(share * len(crops)))), len(crops) - 1)
    if count < 1:
        raise UsageError(f"data.small_word_share needs at least 2 validation words, found {len(crops)}")
    return [crops[i] for i in sorted(order[:count])], [crops[i] for i in sorted(order[count:])]


def validation_protocol(cfg: dict) -> str:
    """How ``validation.data``'s words are made small (the evaluation protocol; ``half`` unset)."""
    return (cfg.get("validation") or {}).get("protocol") or "half"


def validation_set(cfg: dict, crops: list[Crop], degrade: DegradeConfig, **kwargs) -> PairDataset:
    """Validation pairs: made by ``validation.protocol`` from ``validation.data`` crops, else by
    the training simulation (seeded, the same at every validation)."""
    if (cfg.get("validation") or {}).get("data"):
        crops = [replace(c, protocol=validation_protocol(cfg)) for c in crops]
    return PairDataset(crops, degrade, **kwargs)


def validation_source(cfg: dict) -> str:
    """Where the validation words come from, in words (the trainer's log and sidecar)."""
    vcfg = cfg.get("validation") or {}
    if not vcfg.get("data"):
        return "held-out training crops, training degradation"
    cap = vcfg.get("max_crop_height")
    names = ", ".join(Path(str(s)).name for s in vcfg["data"])
    share = float(cfg["data"].get("small_word_share") or 0.0)
    return (f"{validation_protocol(cfg)} protocol on {names}" + (f" crops <= {cap} px" if cap else "")
            + (f", less the {share:g} share trained on" if share else ""))


def validation_batches(dataset: PairDataset, batch_size: int, seed: int) -> list[dict]:
    """Fixed LR/HR pairs of the held-out crops, grouped by width (same every evaluation)."""
    widths = dataset.aspect_widths()
    by_width: dict[int, list] = {}
    for index, width in enumerate(widths):
        by_width.setdefault(width, []).append((index, width, seed * 100003 + index))
    batches = []
    for keys in by_width.values():
        for start in range(0, len(keys), batch_size):
            batches.append(collate([dataset[k] for k in keys[start:start + batch_size]]))
    return batches


def fit_to_shared_memory(workers: int, prefetch: int, batch_bytes: int,
                         shm: str = "/dev/shm") -> tuple[int, int | None]:
    """``(workers, prefetch_factor)`` whose batches in flight fill at most half of ``shm``.

    Loader workers hand their batches over in shared memory; a container's small ``/dev/shm``
    (Docker's default is 64 MiB, a GPU batch of 512 crops ~30-60 MB) ends a run with a bus
    error. Fewer workers and a shallower prefetch, down to none (the main process degrades).
    """
    if workers <= 0:
        return 0, None
    try:
        room = shutil.disk_usage(shm).free // 2
    except OSError:  # no such mount (not Linux): nothing to fit
        return workers, prefetch
    batches = room // max(batch_bytes, 1)
    if batches >= workers * prefetch:
        return workers, prefetch
    fitted = min(workers, batches // 2)
    print(f"{shm} has {room * 2 / 2**20:.0f} MiB free: {fitted} loader workers with 2 batches each "
          f"(asked {workers} x {prefetch}; a batch is up to {batch_bytes / 2**20:.0f} MiB)", flush=True)
    return (fitted, 2) if fitted else (0, None)


def leave_stop_signals_to_the_trainer(_worker_id: int) -> None:
    """In each data-loader worker: ignore SIGINT/SIGTERM. Ctrl-C or ``kill -- -PGID`` signals
    the whole process group; a worker that died of it would crash the trainer mid-step instead
    of letting it save and stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
