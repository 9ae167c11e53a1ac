"""``python -m sgenet_ocr.batch INPUTS... --output DIR``: OCR many pages on Ray, resumable.

Reads images from files, folders (recursive) and path lists (``--list``), runs detect ->
restore -> recognise in a Ray Data actor pool (one Pipeline per actor) and writes one row per
input (a page as in ``--json``, or an error row) to JSON Lines or Parquet shards in DIR. Rerun the
same command after an interruption: inputs already in DIR are skipped. Local Ray by default;
any cluster through ``$RAY_ADDRESS`` or ``--address``.

Exit codes: as the pipeline CLI (0 ok, 2 usage, 3 some inputs unreadable: error rows written,
4 missing extra, 5 plugin error, 6 model weights, 1 internal error, 130 interrupted).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import ArgumentParser, exit_codes_epilog, positive_float, positive_int, print_error, run_cli
from ..errors import InputImageError, UsageError

PROG = "python -m sgenet_ocr.batch"
NAME = "batch"  # errors print as "sgenet-ocr batch: error: ..."
MAX_ERROR_LINES = 20


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0], epilog=exit_codes_epilog(),
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", help="images or folders of images (searched recursively)")
    p.add_argument("--list", action="append", default=[], metavar="FILE",
                   help="text file with one image path a line (repeatable)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="result folder: created, or resumed when an earlier run wrote it")
    p.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl", help="shard format (default jsonl)")
    g = p.add_argument_group("pipeline (as python -m sgenet_ocr.pipeline)")
    g.add_argument("--engine", help="OCR engine (default: easyocr)")
    g.add_argument("--restorer", help="restorer (default: the engine's preferred one, else sgenet)")
    g.add_argument("--min-height", type=float, help="restore text lower than this, page px (default 24)")
    g.add_argument("--device", choices=["cpu", "cuda"], help="device for the restorer (default cpu)")
    g.add_argument("--pipeline", help="preset name (pipelines/NAME.yaml) or path; flags override it")
    g.add_argument("--compare", action="store_true", help="also report the engine-alone reading of restored words")
    g.add_argument("--keep", help="reading kept for a restored word: confident (default) or restored")
    g.add_argument("--plugin", action="append", default=[], help="extra plugin: .py path or module (repeatable)")
    r = p.add_argument_group("Ray")
    r.add_argument("--address", help="Ray cluster address (default: $RAY_ADDRESS, else the Ray that `ray start` "
                                     "runs on this machine, else a new local one; 'local': always a new local one)")
    r.add_argument("--workers", type=positive_int,
                   help="actors, each with one pipeline (default: cluster CPUs // --cpus-per-worker)")
    r.add_argument("--cpus-per-worker", type=positive_float, default=1.0,
                   help="CPUs each actor reserves, also its torch threads (default 1)")
    r.add_argument("--gpus-per-worker", type=positive_float,
                   help="GPUs each actor reserves (with --device cuda; fractions share a GPU)")
    r.add_argument("--batch-size", type=positive_int, default=4, help="pages per actor call (default 4)")
    r.add_argument("--shard-size", type=positive_int, default=256,
                   help="rows per output shard (default 256); a killed run loses at most the unwritten ones")
    r.add_argument("--flush-seconds", type=positive_float, default=60.0,
                   help="also write a shard when its oldest row is this old (default 60)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars, only errors")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command; every failure is one line on stderr and an exit code, never a traceback
    (Ctrl-C: 130, and a rerun of the same command resumes)."""
    return run_cli(NAME, _main, argv)


def _main(argv) -> int:
    from ..presets import load_preset
    from . import run_batch, summary_line

    args = build_parser().parse_args(argv)
    if not args.inputs and not args.list:
        raise UsageError("no inputs given: images, folders or --list FILE (see --help)")
    settings = load_preset(args.pipeline) if args.pipeline else {}
    result = run_batch(
        args.inputs, args.output, lists=args.list, fmt=args.format, workers=args.workers,
        cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker,
        batch_size=args.batch_size, shard_size=args.shard_size,
        flush_seconds=args.flush_seconds, address=args.address, progress=not args.quiet,
        engine=args.engine or settings.get("engine"), restorer=args.restorer or settings.get("restorer"),
        min_height=args.min_height if args.min_height is not None else settings.get("min_height"),
        device=args.device or settings.get("device"), compare=args.compare,
        keep=args.keep or settings.get("keep"), plugins=args.plugin,
        engine_options=settings.get("engine_options"), restorer_options=settings.get("restorer_options"))
    for e in result.errors[:MAX_ERROR_LINES]:
        _error(e["error"])
    if len(result.errors) > MAX_ERROR_LINES:
        _error(f"... and {len(result.errors) - MAX_ERROR_LINES} more error rows in {result.output}")
    if not args.quiet:
        print(summary_line(result), file=sys.stderr)
    return InputImageError.exit_code if result.errors else 0


def _error(message: str) -> None:
    print_error(message, NAME)


if __name__ == "__main__":
    sys.exit(main())
