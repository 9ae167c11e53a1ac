"""``make bench``: every benchmark on the shared data, results into ``benchmarks/results``.

* ``e2e`` (:mod:`benchmarks.e2e`) on ``ic15_e2e_dev`` (scenes, scales 1.0 and 0.5) and
  ``sroie_dev`` (receipts, scales 0.5 and 0.35), every engine x restorer;
* ``sr`` (:mod:`benchmarks.sr`) on the word crops of ``ic15_words_dev``;
* ``speed`` (``benchmarks/speed.py``) when it exists.

The image and crop limits below are part of the results: they are written into
``run_all.json`` and ``summary.md``. They were chosen so the whole run takes about 16 minutes
on 2 idle CPU cores. Engines or restorers that cannot load here (package or weights missing) are
listed as NOT RUN in the reports instead of stopping the run.

``--smoke`` runs a tiny subset (2 pages, one engine, scale 0.5, no sr/speed) for the tests.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.e2e import BenchConfig, json_ready, parse_key_values, run_benchmark, write_outputs  # noqa: E402
from benchmarks.report import pct, num  # noqa: E402
from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402

HERE = Path(__file__).resolve().parent
ENGINES = ("easyocr", "rapidocr", "paddleocr")
# SGENet runs as ``sgenet-onnx``: the same trained model exported with its prior (parity with the
# torch ``sgenet`` restorer is tested to 1e-3), the faster of the two on this CPU (1.05-1.5x,
# ``speed.md``); ``--restorers identity,bicubic,sgenet`` measures the torch path.
RESTORERS = ("identity", "bicubic", "sgenet-onnx")

# What the full run measures. Limits keep ``make bench`` near 16 minutes on 2 idle CPU cores.
E2E_PLAN = (
    {"dataset": "ic15_e2e_dev", "scales": (1.0, 0.5), "limit": 50, "scale_limits": {1.0: 12}},
    {"dataset": "sroie_dev", "scales": (0.5,), "limit": 5, "engines": ("rapidocr", "paddleocr"),
     "why": "easyocr reads each receipt line upscaled to 64 px: about 1 CPU-second per line and pass"},
)
SR_PLAN = {"protocols": ("half",), "limit": 300, "restorers": "identity,bicubic,sgenet",
           "recognizers": "easyocr,ppocr,tesseract"}
SPEED_TIMEOUT_S = 360
SMOKE_PLAN = ({"dataset": "ic15_e2e_dev", "scales": (0.5,), "limit": 2},)
SMOKE_ENGINE_PREFERENCE = ("rapidocr", "easyocr")


def headline(rows: list[dict], dataset: str = "ic15_e2e_dev", scale: float = 0.5) -> str:
    """The README's table: words <=16 px at scale 0.5, per engine and restorer, and the time added."""
    pick = {(r["engine"], r["restorer"], r["measure"], r["bucket"]): r for r in rows
            if r["dataset"] == dataset and r["scale"] == scale}
    engines = list(dict.fromkeys(k[0] for k in pick))
    restorers = list(dict.fromkeys(k[1] for k in pick))
    lines = [f"Words at most 16 px tall after scaling {dataset} pages by {scale:g}: word accuracy on "
             "ground-truth boxes, end-to-end recall, and what restoration adds to a page's time.", "",
             "| engine | restorer | GT-box acc % (<=16 px) | n | fixed / broken vs identity | "
             "e2e recall % (<=16 px) | e2e F1 % (all) | restore s/page | restore share % | s/page |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for engine in engines:
        for restorer in restorers:
            g = pick.get((engine, restorer, "gt_boxes", "<=16"), {})
            e = pick.get((engine, restorer, "e2e", "<=16"), {})
            ea = pick.get((engine, restorer, "e2e", "all"), {})
            if not g:
                continue
            paired = ("–" if restorer == "identity" or g.get("fixed_vs_identity") is None
                      else f"+{g['fixed_vs_identity']} / -{g['broken_vs_identity']}"
                      + (f" (p {g['p_vs_identity']:.3f})" if g.get("p_vs_identity") is not None else ""))
            lines.append(f"| {engine} | {restorer} | {pct(g.get('accuracy'))} | {g.get('n')} | {paired} | "
                         f"{pct(e.get('recall'))} | {pct(ea.get('f1'))} | {num(ea.get('restore_s'), 3)} | "
                         f"{pct(ea.get('restore_share'))} | {num(ea.get('seconds_per_image'), 2)} |")
    return "\n".join(lines)


def run_e2e(data: Path, out: Path, plan: Sequence[dict], engines: Sequence[str], restorers: Sequence[str],
            restorer_options: dict, progress: bool) -> tuple[list[dict], list[dict]]:
    """Every dataset of the plan; returns ``(all rows, per-dataset step records)``."""
    rows, steps = [], []
    for item in plan:
        folder = data / item["dataset"]
        if not folder.is_dir():
            steps.append({"step": f"e2e {item['dataset']}", "skipped": f"{folder} not found"})
            continue
        chosen = [e for e in engines if e in item.get("engines", engines)]
        config = BenchConfig(data=folder, engines=chosen, restorers=list(restorers),
                             scales=list(item["scales"]), limit=item["limit"],
                             scale_limits=dict(item.get("scale_limits", {})),
                             restorer_options=restorer_options, skip_unavailable=True, keep_confident=True)
        t0 = time.perf_counter()
        result = run_benchmark(config, progress=progress)
        seconds = time.perf_counter() - t0
        result["settings"]["wall_seconds"] = seconds
        stem = f"e2e_{item['dataset']}"
        write_outputs(result, out / f"{stem}.json", out / f"{stem}.md", out)
        rows.extend(result["rows"])
        steps.append({"step": f"e2e {item['dataset']}", "seconds": round(seconds, 1), "limit": item["limit"],
                      "engines": chosen,
                      "scales": list(item["scales"]), "skipped": result["settings"]["skipped"]})
    return rows, steps


def run_script(command: list[str], timeout: int) -> dict[str, Any]:
    """A benchmark script as a subprocess; its failure is recorded, not fatal."""
    t0 = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        ok, detail = done.returncode == 0, (done.stderr or "").strip().splitlines()[-3:]
    except subprocess.TimeoutExpired:
        ok, detail = False, [f"timed out after {timeout} s"]
    record = {"command": " ".join(command[1:]), "seconds": round(time.perf_counter() - t0, 1), "ok": ok}
    if not ok:
        record["error"] = " | ".join(detail)
    return record


def speed_command(data: Path, out: Path, restorer_options: dict) -> list[str] | None:
    """``benchmarks/speed.py`` with the output flags it declares, or None when it is absent."""
    script = HERE / "speed.py"
    if not script.is_file():
        return None
    helptext = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                              timeout=120).stdout
    command = [sys.executable, str(script)]
    for flag, value in (("--data", data), ("--json", out / "speed.json"), ("--markdown", out / "speed.md")):
        if flag in helptext:
            command += [flag, str(value)]
    if "--weights" in helptext:
        command += sr_weights(restorer_options)
    return command


def sr_weights(restorer_options: dict) -> list[str]:
    """``--weights PATH`` for sr.py when the run was given SGENet weights other than the shipped ones."""
    weights = (restorer_options.get("sgenet", {}).get("weights")
               or restorer_options.get("sgenet-onnx", {}).get("weights"))
    return ["--weights", str(weights)] if weights else []


def pick_smoke_engine() -> str:
    """The first engine of :data:`SMOKE_ENGINE_PREFERENCE` that is registered here."""
    from sgenet_ocr.plugin_manager import PluginHost

    names = PluginHost().engines.names()
    for name in SMOKE_ENGINE_PREFERENCE:
        if name in names:
            return name
    raise SystemExit(f"--smoke: none of {SMOKE_ENGINE_PREFERENCE} is installed")


def _main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default benchmarks/results; out/bench_smoke with --smoke)")
    p.add_argument("--smoke", action="store_true", help="2 pages, one engine, no sr/speed")
    p.add_argument("--engines", default=None, help=f"comma-separated (default {','.join(ENGINES)})")
    p.add_argument("--restorers", default=",".join(RESTORERS))
    p.add_argument("--restorer-option", action="append", default=[], metavar="RESTORER:KEY=VALUE")
    p.add_argument("--limits", default="", metavar="DATASET=N,...",
                   help="override the plan's page limits (for trial runs; the reports record what ran)")
    p.add_argument("--skip", default="", help="comma-separated steps to leave out: e2e, sr, speed")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    smoke = args.smoke
    out = args.out or (HERE.parent / "out" / "bench_smoke" if smoke else HERE / "results")
    out.mkdir(parents=True, exist_ok=True)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()} | ({"sr", "speed"} if smoke else set())
    plan = [dict(item) for item in (SMOKE_PLAN if smoke else E2E_PLAN)]
    for override in (x for x in args.limits.split(",") if x.strip()):
        name, _, value = override.partition("=")
        matching = [item for item in plan if item["dataset"] == name.strip()]
        if not matching or not value.strip().isdigit() or int(value) < 1:
            p.error(f"--limits: {override!r} is not DATASET=N for a dataset of the plan "
                    f"({', '.join(item['dataset'] for item in plan)})")
        matching[0]["limit"] = int(value)
    engines = [e for e in (args.engines or "").split(",") if e] or ([pick_smoke_engine()] if smoke else list(ENGINES))
    restorers = [r for r in args.restorers.split(",") if r]
    t_start = time.perf_counter()
    summary: dict[str, Any] = {
        "mode": "smoke" if smoke else "full", "data": str(args.data), "engines": engines, "restorers": restorers,
        "e2e_plan": [dict(item, scales=list(item["scales"]), **({"engines": list(item["engines"])}
                                                                if "engines" in item else {})) for item in plan],
        "sr_plan": None if "sr" in skip else dict(SR_PLAN, protocols=list(SR_PLAN["protocols"])),
        "steps": [], "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    restorer_options = parse_key_values(args.restorer_option, "--restorer-option")
    rows: list[dict] = []
    if "e2e" not in skip:
        rows, steps = run_e2e(args.data, out, plan, engines, restorers, restorer_options, not args.quiet)
        summary["steps"] += steps
    if "sr" not in skip:
        summary["steps"].append({"step": "sr", **run_script(
            [sys.executable, str(HERE / "sr.py"), "--data", str(args.data),
             "--protocols", ",".join(SR_PLAN["protocols"]), "--limit", str(SR_PLAN["limit"]),
             "--restorers", SR_PLAN["restorers"], "--recognizers", SR_PLAN["recognizers"],
             "--json", str(out / "sr.json"), "--markdown", str(out / "sr.md"),
             *sr_weights(restorer_options)], timeout=900)})
    if "speed" not in skip:
        command = speed_command(args.data, out, restorer_options)
        summary["steps"].append({"step": "speed", **(run_script(command, SPEED_TIMEOUT_S) if command
                                                     else {"skipped": "benchmarks/speed.py not found"})})
    summary["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    (out / "run_all.json").write_text(json.dumps(json_ready(summary), indent=1) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(summary_markdown(summary, rows, out), encoding="utf-8")
    print(f"run_all: {summary['mode']} run done in {summary['wall_seconds']:.0f} s; results in {out}")
    return 0


def summary_markdown(summary: dict, rows: list[dict], out: Path) -> str:
    """Headline table, the plan (limits included), step timings, then every report found in ``out``."""
    parts = ["# Benchmark results", "",
             f"Mode: {summary['mode']}; engines: {', '.join(summary['engines'])}; restorers: "
             f"{', '.join(summary['restorers'])}; total wall time {summary['wall_seconds']:.0f} s.", ""]
    if "sgenet-onnx" in summary["restorers"]:
        parts += ["`sgenet-onnx` is the trained SGENet (semantic prior included) exported to ONNX and run on "
                  "onnxruntime: the same model as the torch `sgenet` restorer (parity tested to 1e-3), used here "
                  "because it is the faster of the two on CPU (see the speed section).", ""]
    if rows:
        parts += ["## Headline", "", headline(rows, scale=min(r["scale"] for r in rows)
                                            if summary["mode"] == "smoke" else 0.5), ""]
    parts += ["## Plan and timings", ""]
    for item in summary["e2e_plan"]:
        only = f"; engines {', '.join(item['engines'])} only ({item['why']})" if item.get("engines") else ""
        fewer = "".join(f" ({n} at scale {s:g})" for s, n in item.get("scale_limits", {}).items())
        parts.append(f"- e2e {item['dataset']}: first {item['limit']} pages{fewer}, scales "
                     f"{', '.join(f'{s:g}' for s in item['scales'])}{only}")
    if summary["sr_plan"]:
        sr = summary["sr_plan"]
        parts.append(f"- sr: first {sr['limit']} crops of each dev crop set, protocols {', '.join(sr['protocols'])}, "
                     f"restorers {sr['restorers']}, recognisers {sr['recognizers']}")
    for step in summary["steps"]:
        state = step.get("error") or (f"skipped: {step['skipped']}" if isinstance(step.get("skipped"), str) else "ok")
        parts.append(f"- step {step['step']}: {step.get('seconds', '–')} s, {state}")
        not_run = step.get("skipped") if isinstance(step.get("skipped"), list) else []
        for item in not_run:
            parts.append(f"  - NOT RUN: {item['what']}: {item['reason']}")
    parts.append("")
    for name in sorted(out.glob("e2e_*.md")) + [out / "sr.md", out / "speed.md"]:
        if name.is_file():
            parts += [name.read_text(encoding="utf-8"), ""]
    for png in sorted(out.glob("*.png")):
        parts.append(f"![{png.stem}]({png.name})")
    return "\n".join(parts) + "\n"


def main(argv=None) -> int:
    return run_cli("run_all", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
