"""Per-stage CPU timings (detect, recognize) of engines on one scene image, as JSON.

    python benchmarks/engine_stage_times.py --image ../shared/data/ic15_e2e_dev/images/img_5.jpg \
        --engines rapidocr paddleocr tesseract easyocr --repeats 3 --out timings.json

Each engine is loaded once, warmed up with one full pass, then each stage is timed ``repeats``
times on the same page and crops (medians of wall time and of process CPU time, which on a
shared machine says more than wall time). Recognition reads the crops of the
engine's own detections (perspective crops, as the pipeline makes them) in one call.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from sgenet_ocr.cli import ArgumentParser, run_cli
from sgenet_ocr.geometry import order_clockwise, perspective_crop
from sgenet_ocr.imaging import load_image, to_order
from sgenet_ocr.outputs import output_file
from sgenet_ocr.plugin_manager import PluginHost


def time_engine(host: PluginHost, name: str, rgb, repeats: int) -> dict:
    t0 = time.perf_counter()
    engine = host.engines.create(name)
    load = time.perf_counter() - t0
    page = to_order(rgb, engine.color_order)
    quads = [order_clockwise(q) for q in engine.detect(page)]
    crops = [to_order(perspective_crop(rgb, q), engine.color_order) for q in quads]
    engine.recognize(crops)  # warm-up pass done: both stages have run once
    times = {"detect": [], "recognize": []}
    for _ in range(repeats):
        for stage, call, arg in (("detect", engine.detect, page), ("recognize", engine.recognize, crops)):
            wall, cpu = time.perf_counter(), time.process_time()
            call(arg)
            times[stage].append((time.perf_counter() - wall, time.process_time() - cpu))
    engine.close()
    result = {"engine": name, "version": engine.version(), "load_s": round(load, 3), "boxes": len(quads)}
    for stage, runs in times.items():
        # Wall time depends on how busy the machine is; CPU time (all threads) much less so.
        result[f"{stage}_wall_s"] = round(statistics.median(r[0] for r in runs), 4)
        result[f"{stage}_cpu_s"] = round(statistics.median(r[1] for r in runs), 4)
    result["recognize_cpu_ms_per_crop"] = round(1000 * result["recognize_cpu_s"] / max(1, len(crops)), 2)
    return result


def _main(argv=None) -> None:
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", type=Path, required=True)
    p.add_argument("--engines", nargs="+", default=["rapidocr", "paddleocr", "tesseract"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=output_file("--out"), help="JSON file (default: print)")
    args = p.parse_args(argv)
    rgb = load_image(args.image)
    host = PluginHost()
    results = [time_engine(host, name, rgb, args.repeats) for name in args.engines]
    report = {"image": str(args.image), "size": [rgb.shape[1], rgb.shape[0]], "cpu_count": os.cpu_count(),
              "load_average_1min": round(os.getloadavg()[0], 2), "machine": platform.processor() or platform.machine(),
              "repeats": args.repeats, "engines": results}
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


def main(argv=None) -> int:
    return run_cli("engine_stage_times", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
