"""Peak memory and step time of SGENet training on the CPU (the issue asks: batch 32 < 4 GB).

    python benchmarks/train_memory.py --batch-size 32 --steps 4 --json out.json

Runs real training steps of the default config (full model, CTC through the prior, widest
TextZoom batches: every sample 16x64 -> 32x128) on the real training crops and reports the
process's peak resident memory (``ru_maxrss``) and the seconds per step.
"""
from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from sgenet_ocr.cli import ArgumentParser, run_cli
from sgenet_ocr.outputs import output_file


def _main(argv=None) -> None:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=output_file("--json"), help="write the result here")
    args = parser.parse_args(argv)

    from sgenet_ocr.train import Trainer, load_config

    cfg = load_config(None, [f"train.batch_size={args.batch_size}", "data.textzoom_fraction=1.0",
                             "data.val_count=8", "data.num_workers=0", f"threads={args.threads}",
                             "device=cpu"])
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(cfg, Path(out))
        trainer.model.train()
        loader = iter(trainer.loader)
        times = []
        for _ in range(args.steps):
            batch = next(loader)
            start = time.perf_counter()
            trainer.train_step(batch)
            times.append(time.perf_counter() - start)
    result = {
        "batch_size": args.batch_size, "lr_size": [16, 64], "steps": args.steps, "threads": args.threads,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "sec_per_step": sorted(times)[len(times) // 2],
        "note": "median step time; the machine may be shared, so compare on an idle box",
    }
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


def main(argv=None) -> int:
    return run_cli("train_memory", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
