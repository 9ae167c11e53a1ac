"""``python -m sgenet_ocr.train``: train from a recipe, resumable, stopped by a budget or a signal."""
from __future__ import annotations

from pathlib import Path

import yaml

from ..cli import ArgumentParser, run_cli
from ..errors import UsageError
from ..outputs import check_writable_folder
from .config import load_config
from .trainer import Trainer


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m sgenet_ocr.train",
                            description="Train SGENet on word crops with on-the-fly realistic degradation.")
    parser.add_argument("--config", help="YAML config (default: the packaged sgenet_default.yaml)")
    parser.add_argument("--out", required=True, help="run folder (log, checkpoints, weights)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. train.batch_size=16 (repeatable)")
    parser.add_argument("--max-minutes", type=float, help="shortcut for train.max_minutes")
    parser.add_argument("--max-steps", type=int, help="shortcut for train.max_steps")
    parser.add_argument("--batch-size", type=int, help="shortcut for train.batch_size")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:1 ...")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt if present")
    return parser


# A folder holding either of these is a run (``--resume`` continues it).
RUN_MARKS = ("last.pt", "log.csv")


def check_run_folder(out: Path, resume: bool) -> None:
    """``--out`` is new or empty, or with ``--resume`` an earlier run's folder: a run never
    replaces another run's weights and log, nor lands among a user's own files (UsageError)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    check_writable_folder(out, "--out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if any((out / name).is_file() for name in RUN_MARKS):
        if not resume:
            raise UsageError(f"--out {out} holds a run: add --resume to continue it, or give a new folder")
        return
    raise UsageError(f"--out {out} is a folder of other files, not a run: give a new or empty folder")


def main(argv: list[str] | None = None) -> int:
    return run_cli("train", _main, argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    overrides = list(args.set)
    for key, value in (("train.max_minutes", args.max_minutes), ("train.max_steps", args.max_steps),
                       ("train.batch_size", args.batch_size), ("device", args.device)):
        if value is not None:
            overrides.append(f"{key}={value}")
    out = Path(args.out)
    check_run_folder(out, args.resume)
    cfg = load_config(args.config, overrides)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    Trainer(cfg, out, resume=args.resume).run()
    return 0
