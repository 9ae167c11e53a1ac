"""End-to-end benchmark: how much does the restoration stage help each OCR engine?

For every engine x scale x restorer, on a folder in ICDAR 2015 or SROIE layout:

* ``gt_boxes``: each ground-truth quad is cropped from the page resized by ``--scale``, the
  real restoration stage decides and restores, the engine recognises; word accuracy (TextZoom
  protocol) and CER, overall and by text height at that scale (<=16, 17-32, >32 px).
* ``e2e``: the engine's own detections, cropped, restored and recognised the same way, are
  matched to the ground truth by the ICDAR 2015 end-to-end rules (``benchmarks.matching``);
  recall, precision and F1, and recall by height bucket; ``f1_ceiling``: the F1 if every word a
  detection located were read right, the most any restorer could add with these detections.
* cost: seconds per page for detection, restoration and recognition, and restoration's share.
* ``--keep-confident``: every restorer but identity also gets rows ``<name>+confident``, the same
  restorations read under the pipeline's default ``keep="confident"`` policy (each restored
  word keeps the more confident of the engine's readings of its original and restored crop);
  the plain ``<name>`` rows are ``keep="restored"``.

Detection runs once per engine x scale and is shared by every restorer (the restorer only
changes what is recognised). Crops the stage leaves unchanged are read once, and each distinct
crop is restored once per restorer (ground-truth crops are the same for every engine); the time
of shared work is charged to every row that uses it (see :mod:`benchmarks.reuse`).

Example::

    python benchmarks/e2e.py ../shared/data/ic15_e2e_dev --engine easyocr --engine rapidocr \
        --restorers identity,bicubic,sgenet --scale 0.5 --limit 50 \
        --json out/e2e.json --markdown out/e2e.md --plots out/plots
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datasets import Dataset, AnnotatedPage, load_dataset  # noqa: E402
from benchmarks.matching import IOU_THRESHOLD, match_page  # noqa: E402
from benchmarks.reuse import MemoRestorer, SharedReader  # noqa: E402
from benchmarks.scoring import (  # noqa: E402
    ALL, TEXT_HEIGHT_BUCKETS, Reading, paired_changes, recall_by_bucket, recall_precision_f1, recognition_scores)
from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.errors import SgenetOcrError, UsageError  # noqa: E402
from sgenet_ocr.geometry import perspective_crop, quad_height  # noqa: E402
from sgenet_ocr.imaging import load_image, resize  # noqa: E402
from sgenet_ocr.keep import KeepPolicy, keep_policy  # noqa: E402
from sgenet_ocr.metrics import normalize_text  # noqa: E402
from sgenet_ocr.options import DEFAULT_MIN_HEIGHT, StageOptions, parse_key_value  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402
from sgenet_ocr.pipeline import Pipeline  # noqa: E402
from sgenet_ocr.plugin_manager import PluginHost  # noqa: E402
from sgenet_ocr.stage import RestorationStage, with_engine_defaults  # noqa: E402

CONFIDENT = keep_policy("confident")

PROTOCOL = {
    "text": "TextZoom: lower-case, keep [0-9a-z]; labels empty after that are not counted",
    "height": "mean of the quad's left and right edges at the benchmark scale, rounded to whole px",
    "buckets": list(TEXT_HEIGHT_BUCKETS),
    "cer": "sum of Levenshtein edits / sum of label characters, on TextZoom-normalised text",
    "e2e": (f"ICDAR 2015 end-to-end: one-to-one greedy pairing by quad IoU >= {IOU_THRESHOLD} "
            "(best first); '###' and empty-label ground truth is don't care; predictions with more "
            "than half their area in a don't-care region are ignored; predictions reading nothing "
            "are dropped; a pair counts when normalised texts are equal"),
    "scale": "page resized by the scale (PIL bicubic, antialiased), quads scaled with it",
    "cost": ("seconds per page, wall clock, one process; detection shared by restorers; crops the "
             "stage leaves unchanged are read once, identical crops restored once; shared work is "
             "charged to every row at the time it took (benchmarks/reuse.py)"),
}


@dataclass
class BenchConfig:
    data: Path
    engines: list[str]
    restorers: list[str]
    scales: list[float]
    limit: int | None = None
    scale_limits: dict[float, int] = field(default_factory=dict)  # fewer pages at some scales
    min_height: float = DEFAULT_MIN_HEIGHT
    engine_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    restorer_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    examples: int = 6  # example crops kept per engine x scale for the plot
    skip_unavailable: bool = False  # record engines/restorers that fail to load instead of stopping
    keep_confident: bool = False  # also score "<restorer>+confident" (the pipeline's keep="confident")


@dataclass
class Tally:
    """Everything one engine x scale x restorer accumulates over the pages."""

    gt_readings: list[Reading] = field(default_factory=list)
    gt_restored: int = 0
    e2e_hit: list[bool] = field(default_factory=list)
    e2e_heights: list[float] = field(default_factory=list)
    predictions: int = 0
    ignored_predictions: int = 0
    located: int = 0  # ground-truth words a detection matched (IoU >= 0.5), read right or not
    det_restored: int = 0
    det_crops: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: {
        "detect": 0.0, "restore": 0.0, "recognize": 0.0, "gt_restore": 0.0, "gt_recognize": 0.0})


def scaled_page(image: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The page resized by ``scale`` and the exact ``(sx, sy)`` the quads must follow."""
    h, w = image.shape[:2]
    if scale == 1.0:
        return image, np.array([1.0, 1.0], dtype=np.float32)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    return resize(image, nw, nh), np.array([nw / w, nh / h], dtype=np.float32)


def is_scored(text: str, dont_care: bool) -> bool:
    return not dont_care and bool(normalize_text(text))


def kept_by_policy(policy: KeepPolicy, through_stage: tuple, base: tuple[list, list[float]]) -> tuple:
    """A restorer's ``through_stage`` result under a keep policy that reads the original crop
    (the pipeline's): each restored crop keeps the reading the policy picks, and pays for the
    second recognition (the original crop's, at its measured cost)."""
    readings, flags, out, restore_s, recognize_s = through_stage
    base_readings, base_cost = base
    kept, _ = policy.apply(base_readings, readings, flags)
    extra = sum(c for c, f in zip(base_cost, flags) if f)
    return kept, flags, out, restore_s, recognize_s + extra


def run_engine_scale(pipeline: Pipeline, stages: dict[str, RestorationStage], dataset_name: str,
                     samples: list[AnnotatedPage], scale: float, examples: int, progress: bool = True,
                     keep_confident: bool = False):
    """Benchmark one engine at one scale for every restorer: ``(tallies, example crops)``.

    With ``keep_confident`` every restorer but identity also gets a ``<name>+confident`` tally:
    the same restorations read under the pipeline's ``keep="confident"`` policy."""
    from tqdm import tqdm

    reader = SharedReader(pipeline)
    # The pipeline's rule, with this engine's trusted confidence (sgenet_ocr.keep). Restore
    # times still count every small crop, including those the pipeline would not restore.
    confident = keep_policy(CONFIDENT, getattr(pipeline.engine, "trusted_confidence", None))
    names = list(stages) + ([f"{n}+confident" for n in stages if n != "identity"] if keep_confident else [])
    tallies = {name: Tally() for name in names}
    shown: list[dict] = []
    bar = tqdm(samples, desc=f"{pipeline.engine_name} x{scale:g} {dataset_name}", unit="page",
               disable=not progress, dynamic_ncols=True)
    for sample in bar:
        page, factor = scaled_page(load_image(sample.image_path), scale)
        gt_quads = [it.quad * factor for it in sample.items]
        scored = [i for i, it in enumerate(sample.items) if is_scored(it.text, it.dont_care)]
        gt_crops = [perspective_crop(page, gt_quads[i]) for i in scored]
        gt_q = [gt_quads[i] for i in scored]

        t0 = time.perf_counter()
        det_quads, _ = pipeline.detect(page)
        detect_s = time.perf_counter() - t0
        det_crops = pipeline.crop(page, det_quads)
        gt_base, det_base = reader.read_all(gt_crops), reader.read_all(det_crops)

        gt_results = {}
        for name, stage in stages.items():
            gt = reader.through_stage(stage, gt_crops, gt_q, gt_base)
            det = reader.through_stage(stage, det_crops, det_quads, det_base)
            gt_results[name] = gt[:3]
            runs = [(name, gt, det)]
            if keep_confident and name != "identity":
                runs.append((f"{name}+{CONFIDENT.name}", kept_by_policy(confident, gt, gt_base),
                             kept_by_policy(confident, det, det_base)))
            for tally_name, (gt_read, gt_flags, _, g_res, g_rec), (det_read, det_flags, _, d_res, d_rec) in runs:
                tally = tallies[tally_name]
                tally.seconds["gt_restore"] += g_res
                tally.seconds["gt_recognize"] += g_rec
                tally.gt_restored += sum(gt_flags)
                for k, i in enumerate(scored):
                    tally.gt_readings.append(Reading(sample.items[i].text, gt_read[k][0], quad_height(gt_quads[i])))
                tally.seconds["detect"] += detect_s
                tally.seconds["restore"] += d_res
                tally.seconds["recognize"] += d_rec
                tally.det_restored += sum(det_flags)
                tally.det_crops += len(det_crops)
                match = match_page([it.quad * factor for it in sample.items], [it.text for it in sample.items],
                                   [it.dont_care for it in sample.items], det_quads, [t for t, _ in det_read])
                tally.e2e_hit.extend(match.gt_hit)
                tally.e2e_heights.extend(quad_height(gt_quads[g]) for g in match.gt_index)
                tally.predictions += match.predictions
                tally.located += len(match.pairs)
                tally.ignored_predictions += match.ignored_predictions
        shown.extend(pick_examples(sample, scored, gt_crops, gt_quads, gt_results, examples - len(shown)))
    return tallies, shown


def pick_examples(sample, scored, gt_crops, gt_quads, gt_results, wanted: int) -> list[dict]:
    """The page's first ``wanted`` restored ground-truth crops, with every restorer's output.

    Taken in page order, not by outcome, so the plot is not a selection of successes.
    """
    picked = []
    for k, i in enumerate(scored):
        if len(picked) >= wanted:
            break
        if not any(flags[k] for _, flags, _ in gt_results.values()):
            continue
        picked.append({"label": sample.items[i].text, "height": quad_height(gt_quads[i]), "page": sample.name,
                       "crops": {"LR": gt_crops[k], **{n: out[k] for n, (_, _, out) in gt_results.items()}},
                       "readings": {n: read[k][0] for n, (read, _, _) in gt_results.items()}})
    return picked


def rows_for(tally: Tally, pages: int, base: dict[str, Any], baseline: Tally | None = None) -> list[dict[str, Any]]:
    """The flat JSON rows of one engine x restorer x scale (``baseline``: identity, for paired counts)."""
    pages = max(pages, 1)
    s = {k: v / pages for k, v in tally.seconds.items()}
    gt_total = s["gt_restore"] + s["gt_recognize"]
    e2e_total = s["detect"] + s["restore"] + s["recognize"]
    rows = []
    changes = paired_changes(tally.gt_readings, baseline.gt_readings) if baseline else {}
    for bucket, score in recognition_scores(tally.gt_readings).items():
        rows.append({**base, "measure": "gt_boxes", "bucket": bucket, "n": score["n"],
                     "accuracy": score["accuracy"], "cer": score["cer"],
                     "recall": None, "precision": None, "f1": None,
                     "seconds_per_image": gt_total, "restore_share": _share(s["gt_restore"], gt_total),
                     "detect_s": None, "restore_s": s["gt_restore"], "recognize_s": s["gt_recognize"],
                     "restored_fraction": _share(tally.gt_restored, len(tally.gt_readings)),
                     "fixed_vs_identity": changes.get(bucket, {}).get("fixed"),
                     "broken_vs_identity": changes.get(bucket, {}).get("broken"),
                     "p_vs_identity": changes.get(bucket, {}).get("p")})
    by_bucket = recall_by_bucket(tally.e2e_hit, tally.e2e_heights)
    recall, precision, f1 = recall_precision_f1(sum(tally.e2e_hit), len(tally.e2e_hit), tally.predictions)
    # What recognition could reach at best with these detections: every located word read right.
    f1_ceiling = recall_precision_f1(tally.located, len(tally.e2e_hit), tally.predictions)[2]
    for bucket in (ALL, *TEXT_HEIGHT_BUCKETS):
        whole = bucket == ALL
        rows.append({**base, "measure": "e2e", "bucket": bucket, "n": by_bucket[bucket]["n"],
                     "accuracy": None, "cer": None,
                     "recall": recall if whole else by_bucket[bucket]["recall"],
                     "precision": precision if whole else None, "f1": f1 if whole else None,
                     "f1_ceiling": f1_ceiling if whole else None,
                     "predictions": tally.predictions if whole else None,
                     "ignored_predictions": tally.ignored_predictions if whole else None,
                     "seconds_per_image": e2e_total, "restore_share": _share(s["restore"], e2e_total),
                     "detect_s": s["detect"], "restore_s": s["restore"], "recognize_s": s["recognize"],
                     "restored_fraction": _share(tally.det_restored, tally.det_crops)})
    return rows


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def run_benchmark(config: BenchConfig, progress: bool = True) -> dict[str, Any]:
    """Run every engine x scale x restorer; returns ``{"settings", "rows", "curves", "examples"}``.

    ``curves`` (per-word heights and verdicts) and ``examples`` (crops) feed the plots and are
    not written to JSON.
    """
    dataset = load_dataset(config.data, config.limit)
    if not dataset.samples:
        raise UsageError(f"{config.data}: no annotated images found")
    for scale in config.scales:
        if not (0 < scale <= 4):
            raise UsageError(f"--scale must be in (0, 4], got {scale}")
    settings = base_settings(config, dataset)
    result = {"settings": settings, "rows": [], "curves": [], "examples": []}
    host = PluginHost(config.plugins)  # one host for every restorer and engine of the run
    restorers = create_restorers(config, settings, host)
    try:
        for engine in config.engines:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                part = run_engine(config, dataset, engine, restorers, settings, progress, host)
            except SgenetOcrError as exc:
                if not config.skip_unavailable:
                    raise
                settings["skipped"].append({"what": f"engine {engine}", "reason": str(exc)})
                continue
            for key in ("rows", "curves", "examples"):
                result[key].extend(part[key])
            # CPU seconds (all threads) next to wall seconds: tells a busy machine from a slow engine
            settings["engine_seconds"][engine] = {"wall": time.perf_counter() - wall,
                                                  "cpu": time.process_time() - cpu}
    finally:
        for r in restorers.values():
            r.close()
    return result


def create_restorers(config: BenchConfig, settings: dict, host: PluginHost | None = None) -> dict[str, MemoRestorer]:
    """Each restorer once for the whole run (so engines share restored ground-truth crops).

    With ``skip_unavailable`` a restorer that cannot load is recorded in the settings instead
    of stopping the run.
    """
    host = host or PluginHost(config.plugins)
    restorers = {}
    for name in config.restorers:
        try:
            inner = host.restorers.create(name, device="cpu", **config.restorer_options.get(name, {}))
        except SgenetOcrError as exc:
            if not config.skip_unavailable:
                raise
            settings["skipped"].append({"what": f"restorer {name}", "reason": str(exc)})
            continue
        settings["restorer_details"][name] = describe_restorer(inner)
        restorers[name] = MemoRestorer(inner)
    return restorers


def run_engine(config: BenchConfig, dataset: Dataset, engine: str, restorers: dict[str, MemoRestorer],
               settings: dict, progress: bool, host: PluginHost | None = None) -> dict[str, list]:
    """Every scale and restorer for one engine (with the engine's matched weights where it has them)."""
    part: dict[str, list] = {"rows": [], "curves": [], "examples": []}
    own: dict[str, MemoRestorer] = {}
    pipeline = Pipeline(engine=engine, restorer="identity", min_height=config.min_height,
                        plugins=config.plugins, engine_options=config.engine_options.get(engine), host=host)
    try:
        settings["engine_versions"][engine] = pipeline.engine.version()
        own = engine_matched_restorers(config, pipeline, restorers, settings)
        stages = {name: RestorationStage(pipeline.host, own.get(name, r), pipeline.options)
                  for name, r in restorers.items()}
        for scale in config.scales:
            samples = dataset.samples[:config.scale_limits.get(scale)]
            tallies, shown = run_engine_scale(pipeline, stages, dataset.name, samples, scale, config.examples,
                                              progress, config.keep_confident)
            for name, tally in tallies.items():
                base = {"dataset": dataset.name, "engine": engine, "restorer": name, "scale": scale,
                        "pages": len(samples)}
                part["rows"].extend(rows_for(tally, len(samples), base, tallies.get("identity")))
                part["curves"].append({**base, "heights": [r.height for r in tally.gt_readings],
                                       "correct": [normalize_text(r.prediction) == normalize_text(r.label)
                                                   for r in tally.gt_readings]})
            part["examples"].append({"dataset": dataset.name, "engine": engine, "scale": scale, "items": shown})
    finally:
        for r in own.values():
            r.close()
        pipeline.close()
    return part


def engine_matched_restorers(config: BenchConfig, pipeline: Pipeline, restorers: dict[str, MemoRestorer],
                             settings: dict) -> dict[str, MemoRestorer]:
    """Restorers of this engine's own: those that take the engine's matched weights
    (``preferred_weights``) when the user named none, as the pipeline does."""
    own = {}
    for name in restorers:
        asked = StageOptions(restorer=name, restorer_options=config.restorer_options.get(name, {}))
        chosen = with_engine_defaults(pipeline.host, asked, pipeline.engine)
        if chosen.restorer_options != asked.restorer_options:
            inner = pipeline.host.restorers.create(name, device="cpu", **chosen.restorer_options)
            settings["engine_restorer_details"].setdefault(pipeline.engine_name, {})[name] = describe_restorer(inner)
            own[name] = MemoRestorer(inner)
    return own


def describe_restorer(restorer) -> dict[str, Any]:
    """What identifies a restorer's behaviour in a report (weights and their hash when known)."""
    out = {"class": type(restorer).__name__, "scale": getattr(restorer, "scale", None)}
    # Restorers with weights expose what resolve_weights found: the file and its sha256.
    for attr, key in (("weights_source", "weights_file"), ("weights_sha256", "weights_sha256"),
                      ("version", "version")):
        value = getattr(restorer, attr, None)
        if isinstance(value, (str, int, float, Path)):
            out[key] = str(value)
    return out


def base_settings(config: BenchConfig, dataset: Dataset) -> dict[str, Any]:
    import torch

    return {
        "data": str(config.data),
        "dataset": dataset.summary(),
        "engines": list(config.engines),
        "engine_versions": {},
        "engine_options": config.engine_options,
        "restorers": list(config.restorers),
        "restorer_options": config.restorer_options,
        "restorer_details": {},
        "engine_restorer_details": {},  # engine -> restorer -> details, where the engine's weights differ
        "skipped": [],
        "engine_seconds": {},
        "scales": list(config.scales),
        "limit": config.limit,
        "scale_limits": {f"{k:g}": v for k, v in config.scale_limits.items()},
        "min_height": config.min_height,
        "keep_confident": config.keep_confident,
        "device": "cpu",
        "protocol": PROTOCOL,
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "python": platform.python_version(), "torch": torch.__version__,
                    "platform": platform.platform()},
        "load_average_at_start": _load_average(),
        "git_commit": _git_commit(),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _load_average() -> list[float] | None:
    """Other processes slow wall-clock timings; the load average says how busy the machine was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parents[1])
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def json_ready(value):
    """NaN and infinities become null (JSON has no NaN); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_outputs(result: dict[str, Any], json_path: Path | None, markdown_path: Path | None,
                  plots_dir: Path | None) -> None:
    from benchmarks.report import markdown_report, plot_curves, plot_examples

    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(json_ready({"settings": result["settings"], "rows": result["rows"]}),
                                        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if markdown_path:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown_report(result["settings"], result["rows"]), encoding="utf-8")
    if plots_dir:
        plots_dir.mkdir(parents=True, exist_ok=True)
        plot_curves(result["curves"], plots_dir)
        plot_examples(result["examples"], plots_dir)


def parse_key_values(items: Sequence[str], flag: str) -> dict[str, dict[str, Any]]:
    """``NAME:KEY=VALUE`` (repeatable) into ``{NAME: {KEY: VALUE}}``; values parsed as JSON if possible."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, rest = item.partition(":")
        if not sep or not name:
            raise UsageError(f"{flag} expects NAME:KEY=VALUE, got {item!r}")
        try:
            out.setdefault(name, {}).update(parse_key_value([rest], flag))
        except UsageError:
            raise UsageError(f"{flag} expects NAME:KEY=VALUE, got {item!r}") from None
    return out


def parse_scales(text: str) -> list[float]:
    try:
        return [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--scale expects numbers separated by commas, got {text!r}") from None


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="benchmarks/e2e.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", type=Path, help="folder with images/ and gts/ (ICDAR 2015 or SROIE layout)")
    p.add_argument("--engine", action="append", required=True,
                   help="engine name (repeat, or separate with commas): easyocr, rapidocr, paddleocr, ...")
    p.add_argument("--restorers", default="identity,bicubic", help="comma-separated restorer names")
    p.add_argument("--scale", default="1.0", help="resize pages by this factor (several: 1.0,0.5)")
    p.add_argument("--limit", type=int, default=None, help="first N images (natural order)")
    p.add_argument("--scale-limit", action="append", default=[], metavar="SCALE=N",
                   help="only the first N pages at this scale (e.g. 1.0=8)")
    p.add_argument("--min-height", type=float, default=DEFAULT_MIN_HEIGHT,
                   help=f"the stage restores text lower than this, px at the scale (default {DEFAULT_MIN_HEIGHT})")
    p.add_argument("--engine-option", action="append", default=[], metavar="ENGINE:KEY=VALUE")
    p.add_argument("--restorer-option", action="append", default=[], metavar="RESTORER:KEY=VALUE",
                   help="e.g. sgenet:weights=runs/x/best.safetensors")
    p.add_argument("--plugin", action="append", default=[], help="extra plugin (.py path or module)")
    p.add_argument("--examples", type=int, default=6, help="example crops per engine x scale in the plot")
    p.add_argument("--json", type=output_file("--json"), help="write settings and rows here")
    p.add_argument("--markdown", type=output_file("--markdown"), help="write a markdown table here")
    p.add_argument("--plots", type=Path, metavar="DIR", help="write PNG plots into DIR")
    p.add_argument("--keep-confident", action="store_true",
                   help="also score '<restorer>+confident' rows (the pipeline's keep=confident policy)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    engines = [e.strip() for item in args.engine for e in item.split(",") if e.strip()]
    restorers = [r.strip() for r in args.restorers.split(",") if r.strip()]
    if not restorers:
        raise UsageError("--restorers is empty")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be >= 1, got {args.limit}")
    scale_limits = {}
    for item in args.scale_limit:
        scale, _, n = item.partition("=")
        try:
            scale_limits[float(scale)] = int(n)
        except ValueError:
            raise UsageError(f"--scale-limit expects SCALE=N, got {item!r}") from None
    return BenchConfig(data=args.data, engines=engines, restorers=restorers, scales=parse_scales(args.scale),
                       limit=args.limit, scale_limits=scale_limits, min_height=args.min_height,
                       engine_options=parse_key_values(args.engine_option, "--engine-option"),
                       restorer_options=parse_key_values(args.restorer_option, "--restorer-option"),
                       plugins=args.plugin, examples=args.examples, keep_confident=args.keep_confident)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    t0 = time.perf_counter()
    result = run_benchmark(config, progress=not args.quiet)
    result["settings"]["wall_seconds"] = time.perf_counter() - t0
    result["settings"]["load_average_at_end"] = _load_average()
    write_outputs(result, args.json, args.markdown, args.plots)
    if not args.json and not args.markdown:
        from benchmarks.report import markdown_report

        print(markdown_report(result["settings"], result["rows"]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("e2e", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
