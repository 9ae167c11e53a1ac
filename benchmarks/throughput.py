"""Throughput (pages/s): the plain pipeline CLI vs the Ray batch job, on the same pages.

    python benchmarks/throughput.py --data ../shared/data --limit 20 --engine rapidocr \
        --json benchmarks/results/throughput.json

Both run as the user would run them, as subprocesses from a cold start (Python, models, Ray):

- ``plain``: ``python -m sgenet_ocr.pipeline PAGES... --json`` (one process, one pipeline);
- ``ray``: ``python -m sgenet_ocr.batch --list PAGES --output DIR`` (local Ray, ``--workers``
  actors of ``--cpus-per-worker`` CPUs; default: one per CPU).

For each: wall time and pages/s, the job's own time without start-up (plain: the sum of the pages'
stage timings; Ray: the dataset's execution, actor start-up and model loading included), process
CPU seconds per page and peak memory of one pipeline (plain only: Ray's workers are not children
of the driver), and the per-page cost split into detect / restore /
recognize (/ recognize_baseline: the second reading of restored words with keep="confident"),
mean seconds per page. ``identical`` says whether both wrote the same rows apart from timings.
"""
from __future__ import annotations

import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sgenet_ocr.cli import ArgumentParser, positive_float, positive_int, run_cli  # noqa: E402
from sgenet_ocr.errors import SgenetOcrError, UsageError  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402

STAGES = ("detect", "restore", "recognize", "recognize_baseline")


def pages_of(data: Path, limit: int) -> list[Path]:
    folder = data / "ic15_e2e_dev" / "images"
    if not folder.is_dir():
        raise UsageError(f"{folder} not found (--data: the shared data folder)")
    found = sorted(folder.glob("img_*.jpg"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
    if not found:
        raise UsageError(f"no img_*.jpg pages in {folder}")
    return found[:limit]


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd``; return wall seconds, CPU seconds of the child (user + sys) and the process.

    Run the plain CLI first: ``RUSAGE_CHILDREN``'s peak RSS is then that process's.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 3):
        last = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        raise SgenetOcrError(f"{' '.join(cmd[1:3])} failed with exit code {proc.returncode}: {last[0]}")
    return wall, cpu, proc


def stage_split(pages: list[dict]) -> dict[str, float]:
    n = max(1, len(pages))
    split = {s: sum(p["timings"].get(s, 0.0) for p in pages) / n for s in STAGES}
    split["total"] = sum(split.values())
    return {k: round(v, 4) for k, v in split.items()}


def strip(rows: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in r.items() if k != "timings"} for r in rows), key=lambda r: r["source"])


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SGENET_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--limit", type=positive_int, default=20, help="first N pages of ic15_e2e_dev (default 20)")
    ap.add_argument("--engine", default="rapidocr")
    ap.add_argument("--restorer", help="default: the engine's preferred one")
    ap.add_argument("--workers", type=positive_int, help="Ray actors (default: one per CPU)")
    ap.add_argument("--cpus-per-worker", type=positive_float, default=1.0)
    ap.add_argument("--batch-size", type=positive_int, default=1)
    ap.add_argument("--engine-threads", type=positive_int,
                    help="the engine's 'threads' option (rapidocr, paddleocr) in both runs, via a preset; "
                         "default: the engine's own (all cores per pipeline)")
    ap.add_argument("--json", type=output_file("--json"), default=REPO / "benchmarks" / "results" / "throughput.json")
    args = ap.parse_args(argv)

    pages = pages_of(args.data, args.limit)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "plugins"), env.get("PYTHONPATH", "")])
    common = ["--engine", args.engine] + (["--restorer", args.restorer] if args.restorer else [])
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.engine_threads:
            preset = tmp / "threads.yaml"
            preset.write_text(json.dumps({"engine_options": {"threads": args.engine_threads}}))  # JSON is YAML
            common += ["--pipeline", str(preset)]
        plain_json = tmp / "plain.json"
        wall, cpu, _ = run_timed([sys.executable, "-m", "sgenet_ocr.pipeline", *map(str, pages), *common,
                                  "--json", str(plain_json), "-q"], env)
        doc = json.loads(plain_json.read_text())
        plain_pages = doc["pages"]
        split = stage_split(plain_pages)
        preset = " --pipeline THREADS.yaml" if args.engine_threads else ""
        plain = {"command": f"python -m sgenet_ocr.pipeline PAGES --engine {args.engine}{preset} --json OUT -q",
                 "wall_s": round(wall, 2), "pages_per_s": round(len(pages) / wall, 3),
                 "job_s": round(split["total"] * len(plain_pages), 2),
                 "pages_per_s_without_startup": round(1 / split["total"], 3) if split["total"] else None,
                 "cpu_s_per_page": round(cpu / len(pages), 3),
                 "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                 "per_page_s": split}

        listing = tmp / "pages.txt"
        listing.write_text("".join(f"{p}\n" for p in pages))
        out = tmp / "ray_out"
        cmd = [sys.executable, "-m", "sgenet_ocr.batch", "--list", str(listing), "--output", str(out), *common,
               "--cpus-per-worker", str(args.cpus_per_worker), "--batch-size", str(args.batch_size)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        wall, _, proc = run_timed(cmd, env)
        from sgenet_ocr.batch import read_results

        rows = read_results(out)
        ray_pages = [r for r in rows if "error" not in r]
        summary = [line for line in proc.stderr.splitlines() if "pages/s" in line]
        m = re.search(r"; ([\d.]+) s with (\d+) workers on (\d+) node", summary[-1] if summary else "")
        job_s = float(m[1]) if m else None
        ray_res = {"command": f"python -m sgenet_ocr.batch --list PAGES --output DIR --engine {args.engine}{preset} "
                              f"--cpus-per-worker {args.cpus_per_worker} --batch-size {args.batch_size}"
                              + (f" --workers {args.workers}" if args.workers else ""),
                   "wall_s": round(wall, 2), "pages_per_s": round(len(pages) / wall, 3),
                   "job_s": job_s, "pages_per_s_without_startup": round(len(ray_pages) / job_s, 3) if job_s else None,
                   "workers": int(m[2]) if m else None, "nodes": int(m[3]) if m else None,
                   "per_page_s": stage_split(ray_pages), "summary": summary[-1] if summary else None}
        identical = strip(plain_pages) == strip(ray_pages) and len(rows) == len(pages)

    result = {
        "pages": len(pages), "data": "ic15_e2e_dev (1280x720), first pages by number", "engine": args.engine,
        "restorer": plain_pages[0]["restorer"] if plain_pages else args.restorer,
        "engine_threads": args.engine_threads or "engine default (all cores)",
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "load_average_at_start": round(load, 2),
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "plain": plain, "ray": ray_res, "identical_rows_apart_from_timings": identical,
        "speedup_wall": round(plain["wall_s"] / ray_res["wall_s"], 3),
        "speedup_without_startup": _ratio(ray_res["pages_per_s_without_startup"], plain["pages_per_s_without_startup"]),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("throughput", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
