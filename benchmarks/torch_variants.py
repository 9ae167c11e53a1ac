"""Which CPU speed-ups of SGENet are free, and what the others cost in accuracy.

    python benchmarks/torch_variants.py --json variants.json [--weights W] [--crops 300] \
        [--variants fp32-1thread,int8,channels-last,onnx,onnx-int8,compile]

Every variant restores the same real word crops (``ic15_words_dev``, the deployed path: crop ->
height 16 -> x2) and is compared with the fp32 PyTorch restorer (physical-core threads):

* speed: wall and process-CPU seconds for the whole set (CPU time is steadier on a busy machine);
* fidelity: PSNR of the variant's output against the fp32 output (100 dB = identical) and the
  largest pixel difference;
* recognition: word accuracy (TextZoom protocol) of the RapidOCR recogniser on the outputs,
  next to the fp32 accuracy.

With random weights (no shipped weights and no ``--weights``) the network's output is close to
bicubic and the accuracy columns say little; rerun with trained weights.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import DEFAULT_DATA, loadavg, log, random_weights  # noqa: E402
from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402


def load_crops(data: Path, count: int) -> tuple[list[np.ndarray], list[str]]:
    from sgenet_ocr.imaging import load_image

    folder = data / "ic15_words_dev"
    rows = [ln.split("\t", 1) for ln in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines() if ln]
    rows = rows[:count]
    return [load_image(folder / "images" / name) for name, _ in rows], [label for _, label in rows]


def make_variant(host, name: str, weights: Path, tmp: Path):
    """A restorer for variant ``name`` (None when it cannot be built here)."""
    import torch

    base = {"weights": str(weights)}
    if name == "fp32":
        return host.restorers.create("sgenet", **base)
    if name == "fp32-1thread":
        return host.restorers.create("sgenet", threads=1, **base)
    if name == "int8":
        return host.restorers.create("sgenet", int8=True, **base)
    if name == "channels-last":
        return host.restorers.create("sgenet", channels_last=True, **base)
    if name == "onnx":
        return host.restorers.create("sgenet-onnx", threads=torch.get_num_threads(), **base)
    if name == "onnx-int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fp32 = host.restorers.create("sgenet-onnx", threads=torch.get_num_threads(), **base)
        out = tmp / "sgenet_int8.onnx"
        # MatMul/Gemm/GRU weights to int8; convolutions stay fp32 (dynamic conv quantisation
        # is slow in onnxruntime's CPU provider).
        quantize_dynamic(str(fp32.onnx_path), str(out), op_types_to_quantize=["MatMul", "Gemm", "GRU"],
                         weight_type=QuantType.QInt8)
        return host.restorers.create("sgenet-onnx", onnx_path=str(out), threads=torch.get_num_threads())
    if name == "compile":
        restorer = host.restorers.create("sgenet", **base)
        restorer.model = torch.compile(restorer.model, dynamic=True)
        return restorer
    raise SystemExit(f"unknown variant {name!r}")


def run_variant(restorer, crops) -> tuple[list[np.ndarray], float, float]:
    restorer.restore(crops[:4])  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    out = restorer.restore(crops)
    return out, time.perf_counter() - w0, time.process_time() - c0


def accuracy(engine, images: list[np.ndarray], labels: list[str]) -> float:
    from sgenet_ocr.imaging import to_order
    from sgenet_ocr.metrics import word_accuracy

    readings = engine.recognize([to_order(img, engine.color_order) for img in images])
    return word_accuracy([text for text, _ in readings], labels)[0]


def _main(argv=None) -> dict:
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path)
    p.add_argument("--json", type=output_file("--json"))
    p.add_argument("--crops", type=int, default=300)
    p.add_argument("--variants", default="fp32-1thread,int8,channels-last,onnx,onnx-int8")
    p.add_argument("--threads", type=int, help="torch/onnxruntime threads (default: physical cores)")
    p.add_argument("--no-recognition", action="store_true", help="skip the RapidOCR accuracy columns")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = p.parse_args(argv)

    from sgenet_ocr.errors import SgenetOcrError
    from sgenet_ocr.metrics import psnr
    from sgenet_ocr.models import PRETRAINED, has_pretrained
    from sgenet_ocr.plugin_manager import PluginHost

    import torch

    from sgenet_ocr.hardware import physical_cores

    threads = args.threads or physical_cores()
    torch.set_num_threads(threads)
    crops, labels = load_crops(args.data, args.crops)
    host = PluginHost()
    engine = None if args.no_recognition else host.engines.create("rapidocr")
    report = {"load_start": loadavg(), "crops": len(crops), "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("SGENET_OCR_CACHE", str(tmp / "onnx"))
        weights = args.weights or (PRETRAINED["sgenet"].weights_path if has_pretrained("sgenet") else random_weights(tmp))
        report["weights"] = str(weights)
        reference, wall, cpu = run_variant(make_variant(host, "fp32", weights, tmp), crops)
        base = {"variant": "fp32", "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "psnr_vs_fp32": 100.0,
                "max_abs_diff": 0, "load": loadavg()[0]}
        if engine:
            base["accuracy"] = accuracy(engine, reference, labels)
        report["rows"].append(base)
        log(f"fp32: {base}")
        for name in [v for v in args.variants.split(",") if v]:
            torch.set_num_threads(threads)  # a previous variant may have changed the process setting
            try:
                restorer = make_variant(host, name, weights, tmp)
                out, wall, cpu = run_variant(restorer, crops)
            except (SgenetOcrError, RuntimeError, ImportError) as exc:
                log(f"{name}: failed ({type(exc).__name__}: {str(exc)[:200]})")
                report["rows"].append({"variant": name, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
                continue
            row = {"variant": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                   "speedup_cpu": round(base["cpu_s"] / cpu, 2) if cpu else None,
                   "psnr_vs_fp32": round(float(np.mean([psnr(a, b) for a, b in zip(out, reference)])), 2),
                   "max_abs_diff": int(max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(out, reference))),
                   "load": loadavg()[0]}
            if engine:
                row["accuracy"] = accuracy(engine, out, labels)
            report["rows"].append(row)
            log(f"{name}: {row}")
            restorer.close()
    report["load_end"] = loadavg()
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)
    return report


def main(argv=None) -> int:
    return run_cli("torch_variants", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
