"""Speed of the restoration stage on this machine, in one run, as JSON and/or markdown.

    python benchmarks/speed.py --json speed.json --markdown speed.md [--weights W] [--pages 5]

Measures, printing one progress line per measurement:

1. the machine's fp32 matmul peak (large square matmul, torch and numpy, best of several);
2. crops/s of ``bicubic``, ``sgenet`` (PyTorch eager) and ``sgenet-onnx`` (onnxruntime) through
   their ``restore()`` (crop preparation and bucketing included) at LR 16x64 and 16x256 for
   batch 1 and 32 (and on the GPU when one is present), with the GFLOP/s each reaches from the
   model's measured MACs (SR branch + prior; :mod:`sgenet_ocr.models.complexity`) and its
   share of the peak;
3. the share of a page's OCR time that restoration adds, ``restore / page time``, for EasyOCR,
   PaddleOCR and RapidOCR with the default keep policy, on ``--pages`` scene images of
   ``ic15_e2e_dev`` and ``--receipts`` SROIE receipts, downscaled by ``--scale`` (wall times
   from ``page.timings``, plus CPU times). For the engines whose recogniser is SGENet's prior,
   each SGENet restorer runs twice: guided by the engine's own reading, and running its prior.

Speed does not depend on weight values: without ``--weights`` and without shipped weights a
randomly initialised model is saved to a temporary file and used. On a shared machine wall
times depend on the load: the load average is recorded at the start and end of each section.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("SGENET_DATA") or REPO.parent / "shared" / "data")


def log(msg: str) -> None:
    print(f"[speed {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- 1. matmul peak ------------------------------------------------------------------------
def matmul_peak(n: int, repeats: int, threads: int) -> dict:
    """Best-of-``repeats`` fp32 GFLOP/s of an n x n matmul (2 n^3 FLOPs) in torch and numpy."""
    import torch

    torch.set_num_threads(threads)
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    an, bn = a.numpy(), b.numpy()
    result = {"n": n, "threads": threads}
    for name, fn in (("torch", lambda: torch.mm(a, b)), ("numpy", lambda: an @ bn)):
        fn()  # warm-up (thread pool start, page faults)
        best = min(_timed(fn) for _ in range(repeats))
        result[f"{name}_gflops"] = round(2 * n ** 3 / best / 1e9, 2)
        log(f"matmul peak {name} n={n}: {result[f'{name}_gflops']} GFLOP/s")
    result["peak_gflops"] = max(result["torch_gflops"], result["numpy_gflops"])
    return result


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# -- 2. restorer throughput ----------------------------------------------------------------
def random_weights(folder: Path) -> Path:
    import torch

    from sgenet_ocr.models import create_model, save_weights

    torch.manual_seed(0)
    path = folder / "random_init.safetensors"
    save_weights(create_model("sgenet"), path, {"note": "random init: speed benchmark only"})
    return path


def model_gflop_per_crop(weights: Path, widths: list[int]) -> dict[int, dict]:
    """Measured MACs per crop (SR + alignment, and the prior) -> GFLOP (2 x MACs) per crop."""
    from sgenet_ocr.models import create_model
    from sgenet_ocr.models.complexity import model_macs

    model = create_model("sgenet", pretrained=weights)
    out = {}
    for w in widths:
        macs = model_macs(model, width=w)
        out[w] = {**macs, "gflop_per_crop": 2 * (macs["sr_macs"] + macs["prior_macs"]) / 1e9}
        log(f"MACs at 16x{w}: SR {macs['sr_macs'] / 1e9:.3f} G + prior {macs['prior_macs'] / 1e9:.3f} G")
    return out


GUIDED = "+engine-prior"  # suffix of a restorer given the prior's probabilities (the prior does not run)


def measure_restorer(restorer, width: int, batch: int, min_time: float, max_calls: int,
                     guided: bool = False) -> dict:
    """crops/s of ``restorer.restore`` on ``batch`` crops of 16 x ``width`` (noise content);
    ``guided``: with prior probabilities given, as an engine that is the prior provides them."""
    from sgenet_ocr.prior_probs import prior_steps

    rng = np.random.default_rng(width * 1000 + batch)
    crops = [rng.integers(0, 256, (16, width, 3), dtype=np.uint8) for _ in range(batch)]
    extra = {}
    if guided:
        classes = len(restorer.prior_charset)
        extra["prior_probs"] = [rng.dirichlet(np.ones(classes), prior_steps(width)).astype(np.float32)
                                for _ in crops]
    restorer.restore(crops, **extra)  # warm-up: lazy init, allocator, onnxruntime shape specialisation
    walls, cpus = [], []
    start = time.perf_counter()
    while len(walls) < max_calls and (len(walls) < 2 or time.perf_counter() - start < min_time):
        w0, c0 = time.perf_counter(), time.process_time()
        restorer.restore(crops, **extra)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    wall = statistics.median(walls)
    return {"calls": len(walls), "ms_per_call": round(1000 * wall, 2), "crops_per_s": round(batch / wall, 2),
            "cpu_ms_per_crop": round(1000 * statistics.median(cpus) / batch, 2)}


def throughput(host, weights: Path, widths, batches, devices, threads: int, min_time: float,
               max_calls: int, flops: dict, peak: float, variants: list[str]) -> list[dict]:
    import torch

    torch.set_num_threads(threads)
    rows = []
    for device in devices:
        names = (["bicubic", "sgenet", "sgenet" + GUIDED, "sgenet-onnx", "sgenet-onnx" + GUIDED]
                 + [v for v in variants if device == "cpu"])
        for name in names:
            guided = name.endswith(GUIDED)
            restorer = make_restorer(host, name.removesuffix(GUIDED), weights, device, threads)
            if restorer is None:
                log(f"{name} on {device}: not available, skipped")
                continue
            for width in widths:
                for batch in batches:
                    row = {"restorer": name, "device": device, "width": width, "batch": batch,
                           "load_before": loadavg()[0]}
                    row.update(measure_restorer(restorer, width, batch, min_time, max_calls, guided))
                    if name != "bicubic":
                        per_crop = 2 * flops[width]["sr_macs"] / 1e9 if guided else flops[width]["gflop_per_crop"]
                        gflops = row["crops_per_s"] * per_crop
                        row["gflops"] = round(gflops, 2)
                        row["share_of_peak"] = round(gflops / peak, 4) if device == "cpu" else None
                    rows.append(row)
                    log(f"{name:<18} {device} 16x{width:<4} batch {batch:>2}: {row['crops_per_s']:8.1f} crops/s"
                        f" ({row['ms_per_call']} ms/call, {row.get('gflops', '-')} GFLOP/s)")
            restorer.close()
    return rows


def make_restorer(host, name: str, weights: Path, device: str, threads: int):
    """A restorer by name; ``sgenet-int8`` style variants map to options of ``sgenet``."""
    options = {"weights": str(weights), "device": device}
    if name == "bicubic":
        return host.restorers.create("bicubic")
    if name == "sgenet-onnx":
        import onnxruntime as ort

        if device != "cpu" and "CUDAExecutionProvider" not in ort.get_available_providers():
            return None
        return host.restorers.create("sgenet-onnx", threads=threads, **options)
    variant = {"sgenet": {}, "sgenet-int8": {"int8": True}, "sgenet-channels-last": {"channels_last": True}}
    if name not in variant:
        raise SystemExit(f"unknown restorer variant {name!r}")
    return host.restorers.create("sgenet", **options, **variant[name])


def speedups(rows: list[dict]) -> list[dict]:
    """sgenet-onnx vs eager sgenet, and each SGENet restorer given the prior's probabilities vs
    running its prior, at each (device, width, batch)."""
    index = {(r["restorer"], r["device"], r["width"], r["batch"]): r["crops_per_s"] for r in rows}
    out = []
    for (name, device, width, batch), value in index.items():
        eager = index.get(("sgenet", device, width, batch))
        if name == "sgenet-onnx" and eager:
            row = {"device": device, "width": width, "batch": batch, "onnx_vs_torch": round(value / eager, 2)}
            for base in ("sgenet", "sgenet-onnx"):
                guided = index.get((base + GUIDED, device, width, batch))
                plain = index.get((base, device, width, batch))
                if guided and plain:
                    row[f"{base}_engine_prior_vs_prior"] = round(guided / plain, 2)
            out.append(row)
    return out


# -- 3. share of a page's OCR time ---------------------------------------------------------
class CpuClock:
    """Adds process CPU time spent inside a bound method (wraps the instance attribute)."""

    def __init__(self, obj, method: str):
        self.total = 0.0
        inner = getattr(obj, method)

        def timed(*args, **kwargs):
            c0 = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.total += time.process_time() - c0

        setattr(obj, method, timed)


def page_images(folder: Path, count: int, scale: float) -> list[tuple[str, np.ndarray]]:
    """The first ``count`` images of ``folder`` (natural order), downscaled by ``scale``."""
    from sgenet_ocr.imaging import list_images, load_image, resize

    paths = sorted(list_images(folder), key=lambda p: int("".join(filter(str.isdigit, p.stem)) or 0))[:count]
    if not paths:
        raise SystemExit(f"no images in {folder}")
    out = []
    for p in paths:
        rgb = load_image(p)
        out.append((p.name, resize(rgb, round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))))
    return out


def time_pages(pipe, images, label: str) -> dict:
    """Page timings summed over ``images`` (after one warm-up page), words, restored and guided
    crops, and the process CPU time of the engine and of the restorer."""
    clocks = {"engine": CpuClock(pipe, "_engine_call"), "restore": CpuClock(pipe.restorer, "restore")}
    pipe.run(images[0][1], source=images[0][0])  # warm-up page: lazy model init is not page time
    for clock in clocks.values():
        clock.total = 0.0
    sums: dict[str, float] = {}
    words = restored = 0
    guided_before = pipe.stage.stats.crops_guided
    load_before = loadavg()[0]
    for source, rgb in images:
        page = pipe.run(rgb, source=source)
        for key, value in page.timings.items():
            sums[key] = sums.get(key, 0.0) + value
        words += len(page.words)
        restored += sum(w.restored for w in page.words)
        log(f"page {source} {label}: " + ", ".join(f"{k} {v:.2f}s" for k, v in page.timings.items())
            + f", {sum(w.restored for w in page.words)}/{len(page.words)} crops restored")
    total = sum(sums.values())
    cpu_total = sum(c.total for c in clocks.values())
    return {"pages": len(images), "words": words, "restored": restored,
            "guided": pipe.stage.stats.crops_guided - guided_before,
            **{f"{k}_s": round(v, 3) for k, v in sums.items()}, "page_s": round(total / len(images), 3),
            "restore_share": round(sums.get("restore", 0.0) / total, 4) if total else None,
            "restore_share_cpu": round(clocks["restore"].total / cpu_total, 4) if cpu_total else None,
            "load_before": load_before, "load_after": loadavg()[0]}


def page_shares(engines: list[str], restorers: list[str], weights: Path, datasets, device: str,
                threads: int | None) -> list[dict]:
    """Restore share of page time, ``restore / (detect + recognize + restore + recognize_restored)``,
    per dataset, engine, restorer and engine-prior setting, with the default keep policy."""
    from sgenet_ocr.errors import SgenetOcrError
    from sgenet_ocr.pipeline import Pipeline

    rows = []
    for dataset, images in datasets:
        for engine, name in ((e, r) for e in engines for r in restorers):
            options = {} if name in ("bicubic", "identity") else {"weights": str(weights), "threads": threads}
            # With the engine's probabilities when it has them (the default), then without.
            for engine_prior in (True, False):
                key = {"dataset": dataset, "engine": engine, "restorer": name}
                try:
                    pipe = Pipeline(engine=engine, restorer=name, device=device, restorer_options=options,
                                    engine_prior=engine_prior)
                except SgenetOcrError as exc:
                    log(f"pages {dataset} {engine} + {name}: skipped ({exc})")
                    rows.append({**key, "skipped": str(exc)})
                    break
                if engine_prior and pipe.guidance is None:
                    engine_prior = None  # not applicable: measured once
                label = f"{dataset} {engine} + {name}" + ("" if engine_prior is None else f" (engine prior {engine_prior})")
                try:
                    rows.append({**key, "engine_prior": engine_prior, **time_pages(pipe, images, label)})
                finally:
                    pipe.close()
                log(f"pages {label}: restore share {rows[-1]['restore_share']} (wall), "
                    f"{rows[-1]['restore_share_cpu']} (cpu)")
                if engine_prior is None:
                    break
    return rows


# -- report ---------------------------------------------------------------------------------
def markdown(report: dict) -> str:
    m, peak = report["machine"], report["peak"]
    lines = [f"# Restoration speed ({m['cpu']}, {m['physical_cores']} cores, {m['date']})", "",
             f"Load average at start {m['load_start']}, at end {m['load_end']}. "
             f"fp32 matmul peak (n={peak['n']}, {peak['threads']} threads): torch {peak['torch_gflops']} "
             f"GFLOP/s, numpy {peak['numpy_gflops']} GFLOP/s.", "",
             "| restorer | device | LR size | batch | crops/s | ms/call | GFLOP/s | % of peak | load |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in report["throughput"]:
        share = f"{100 * r['share_of_peak']:.1f}" if r.get("share_of_peak") is not None else "-"
        lines.append(f"| {r['restorer']} | {r['device']} | 16x{r['width']} | {r['batch']} | {r['crops_per_s']} | "
                     f"{r['ms_per_call']} | {r.get('gflops', '-')} | {share} | {r['load_before']} |")
    if report["speedups"]:
        lines += ["", "sgenet-onnx vs eager PyTorch: " + ", ".join(
            f"16x{s['width']} b{s['batch']} ({s['device']}) x{s['onnx_vs_torch']}" for s in report["speedups"])]
        guided = [s for s in report["speedups"] if "sgenet-onnx_engine_prior_vs_prior" in s]
        if guided:
            lines += ["", f"Given the engine's probabilities (`{GUIDED}`: the prior does not run) vs running "
                      "the prior: " + ", ".join(
                          f"16x{s['width']} b{s['batch']}: sgenet x{s.get('sgenet_engine_prior_vs_prior', '-')}, "
                          f"sgenet-onnx x{s['sgenet-onnx_engine_prior_vs_prior']}" for s in guided)]
    if report["pages"]:
        lines += ["", "Page time, default keep policy (`confident`); restore share = restore / (detect + "
                  "recognize + restore + recognize restored); engine prior: the engine's own reading "
                  "guides SGENet (yes), SGENet runs its prior (no), not applicable (-):", "",
                  "| data | engine | restorer | engine prior | pages | restored/words | s/page | detect s | "
                  "recognize s | restore s | recognize restored s | restore share (wall) | (cpu) |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in report["pages"]:
            if "skipped" in r:
                lines.append(f"| {r['dataset']} | {r['engine']} | {r['restorer']} | skipped: {r['skipped']} |||||||||")
                continue
            prior = {True: "yes", False: "no", None: "-"}[r["engine_prior"]]
            lines.append(f"| {r['dataset']} | {r['engine']} | {r['restorer']} | {prior} | {r['pages']} | "
                         f"{r['restored']}/{r['words']} | {r['page_s']} | {r.get('detect_s', 0)} | "
                         f"{r.get('recognize_s', 0)} | {r.get('restore_s', 0)} | {r.get('recognize_restored_s', 0)} | "
                         f"{100 * r['restore_share']:.1f}% | {100 * r['restore_share_cpu']:.1f}% |")
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, help="safetensors weights (default: shipped, else random init)")
    p.add_argument("--json", type=output_file("--json"), help="write the JSON report here")
    p.add_argument("--markdown", type=output_file("--markdown"), help="write a markdown summary here")
    p.add_argument("--widths", default="64,256", help="LR widths (height 16), comma separated")
    p.add_argument("--batches", default="1,32", help="batch sizes, comma separated")
    p.add_argument("--min-time", type=float, default=2.0, help="seconds of timed calls per measurement")
    p.add_argument("--max-calls", type=int, default=20, help="at most this many timed calls per measurement")
    p.add_argument("--threads", type=int, help="intra-op threads (default: physical cores)")
    p.add_argument("--matmul-n", type=int, default=2048)
    p.add_argument("--variants", default="", help="extra torch variants: sgenet-int8,sgenet-channels-last")
    p.add_argument("--pages", type=int, default=5, help="scene images for the page-share part (0 = skip)")
    p.add_argument("--receipts", type=int, default=3, help="sroie_dev receipts for the page-share part (0 = skip)")
    p.add_argument("--scale", type=float, default=0.5, help="downscale factor of the scene images and receipts")
    p.add_argument("--engines", default="easyocr,paddleocr,rapidocr")
    p.add_argument("--page-restorers", default="sgenet-onnx", help="restorers for the page-share part")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    return p.parse_args(argv)


def _main(argv=None) -> dict:
    args = parse_args(argv)
    import onnxruntime
    import torch

    from sgenet_ocr.hardware import physical_cores
    from sgenet_ocr.models import PRETRAINED, has_pretrained
    from sgenet_ocr.plugin_manager import PluginHost

    threads = args.threads or physical_cores()
    widths = [int(w) for w in args.widths.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    report = {"machine": {"cpu": cpu, "physical_cores": physical_cores(), "logical_cpus": os.cpu_count(),
                          "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                          "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": loadavg()},
              "settings": {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                           "threads": threads}}
    log(f"start: {cpu}, {physical_cores()} physical cores, {threads} threads, load {loadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.weights:
            weights, source = args.weights, str(args.weights)
        elif has_pretrained("sgenet"):
            weights, source = PRETRAINED["sgenet"].weights_path, "shipped"
        else:
            weights, source = random_weights(Path(tmp)), "random init (no shipped weights)"
        report["settings"]["weights_source"] = source
        # The ONNX export cache goes to the temp folder unless one is configured.
        os.environ.setdefault("SGENET_OCR_CACHE", str(Path(tmp) / "onnx"))
        report["peak"] = matmul_peak(args.matmul_n, 5, threads)
        flops = model_gflop_per_crop(weights, widths)
        report["macs"] = {str(w): v for w, v in flops.items()}
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        variants = [v for v in args.variants.split(",") if v]
        host = PluginHost()
        report["throughput"] = throughput(host, weights, widths, batches, devices, threads, args.min_time,
                                          args.max_calls, flops, report["peak"]["peak_gflops"], variants)
        report["speedups"] = speedups(report["throughput"])
        report["pages"] = []
        datasets = [(f"{name}@{args.scale}", page_images(args.data / name / "images", count, args.scale))
                    for name, count in (("ic15_e2e_dev", args.pages), ("sroie_dev", args.receipts)) if count > 0]
        if datasets:
            report["pages"] = page_shares([e for e in args.engines.split(",") if e],
                                          [r for r in args.page_restorers.split(",") if r], weights, datasets,
                                          devices[-1], args.threads)
    report["machine"]["load_end"] = loadavg()
    at_32 = [s["onnx_vs_torch"] >= 2 for s in report["speedups"] if s["batch"] == 32]
    # The default path of each engine (its own probabilities when it has them): <= 10% of page
    # time on scenes, <= 25% on receipts. None: not measured in this run.
    def share_target(prefix: str, limit: float):
        met = [r["restore_share"] <= limit for r in report["pages"] if r.get("restore_share") is not None
               and r["dataset"].startswith(prefix) and r["engine_prior"] is not False]
        return all(met) if met else None

    report["targets"] = {"onnx_2x_torch_at_batch_32": all(at_32) if at_32 else None,
                         "restore_share_scenes_at_most_10pct": share_target("ic15", 0.10),
                         "restore_share_receipts_at_most_25pct": share_target("sroie", 0.25)}
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(report))
    if not args.json and not args.markdown:
        print(text)
    log(f"done: targets {report['targets']}")
    return report


def main(argv=None) -> int:
    return run_cli("speed", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
