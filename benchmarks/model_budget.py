"""SGENet's budget: parameters, multiply-accumulates and CPU latency, with bicubic alongside.

    python benchmarks/model_budget.py --json model_budget.json [--threads 1] [--repeats 5]

Counts (see ``sgenet_ocr.models.complexity``): MACs of conv/linear/matmul/GRU ops, FLOPs =
2 x MACs; the paper's "0.98 GFLOPs" is a MAC count in this sense (thop). The trainable part
(SR branch + semantic alignment) is counted with precomputed prior outputs, the frozen prior
separately. Latency is the median per-crop time of a full forward (prior included) under
``torch.no_grad`` on LR input 16 x W, and of the ``bicubic`` restorer on the same crops as
uint8 arrays, in the same run. Weights do not change the cost: random init is used unless
``--weights`` is given.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.models import create_model  # noqa: E402
from sgenet_ocr.models.complexity import model_macs, prior_parameters, trainable_parameters  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402
from sgenet_ocr.restorers import BicubicRestorer  # noqa: E402

WIDTHS = (64, 256)
BATCHES = (1, 32)


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def latency_rows(model, device: torch.device, repeats: int) -> list[dict]:
    rows = []
    bicubic = BicubicRestorer()
    cases = [(w, b) for w in WIDTHS for b in BATCHES]
    for width, batch in tqdm(cases, desc="latency", unit="case"):
        lr = torch.rand(batch, 3, model.config.input_height, width, device=device)
        crops = [(img * 255).round().byte().permute(1, 2, 0).cpu().numpy() for img in lr]

        def run_model():
            with torch.no_grad():
                model(lr)
            if device.type == "cuda":
                torch.cuda.synchronize()

        sgenet_s = median_seconds(run_model, repeats)
        bicubic_s = median_seconds(lambda: bicubic.restore(crops), repeats)
        rows.append({"input": f"16x{width}", "batch": batch,
                     "sgenet_ms_per_crop": round(1000 * sgenet_s / batch, 3),
                     "bicubic_ms_per_crop": round(1000 * bicubic_s / batch, 4),
                     "slowdown_vs_bicubic": round(sgenet_s / max(bicubic_s, 1e-9), 1)})
    return rows


def complexity(model) -> dict:
    report = {"trainable_params": trainable_parameters(model), "prior_params": prior_parameters(model),
              "count": "MACs of conv/linear/matmul/GRU (torch.utils.flop_counter); FLOPs = 2 x MACs"}
    for width in WIDTHS:
        macs = model_macs(model, width=width)
        report[f"16x{width}"] = {
            "sr_gmacs": round(macs["sr_macs"] / 1e9, 4), "sr_gflops": round(2 * macs["sr_macs"] / 1e9, 4),
            "prior_gmacs": round(macs["prior_macs"] / 1e9, 4),
            "prior_gflops": round(2 * macs["prior_macs"] / 1e9, 4)}
    report["budget_ok"] = bool(report["trainable_params"] < 1_000_000 and report["16x64"]["sr_gmacs"] <= 1.0)
    return report


def _main(argv=None) -> None:
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=output_file("--json"), help="write the report here (default: print it)")
    p.add_argument("--weights", help="safetensors weights (default: random init; cost is the same)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = create_model("sgenet", pretrained=args.weights or False).to(device).eval()
    report = {"model": "sgenet", "config": vars(model.config).copy(), "device": args.device,
              "threads": args.threads, "cpu_count": os.cpu_count(),
              "load_average_1min": round(os.getloadavg()[0], 2),
              "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "repeats": args.repeats, **complexity(model), "latency": latency_rows(model, device, args.repeats)}
    report["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    text = json.dumps(report, indent=2, default=str)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


def main(argv=None) -> int:
    return run_cli("model_budget", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
