"""Evaluate restorers x recognisers on word crops: accuracy, PSNR, SSIM by LR text height.

    python -m sgenet_ocr.evaluate --data ../shared/data/ic15_words_dev --protocol half \
        --restorers identity,bicubic,sgenet --recognizers easyocr,ppocr,tesseract \
        --json eval_half.json [--grid half.png] [--weights W.safetensors] [--limit N] [--device cpu]

``--data`` is a crops folder (``images/`` + ``labels.tsv``) or a TextZoom LMDB (or TextZoom's
test folder with ``easy/medium/hard``). Protocols are described in
:mod:`sgenet_ocr.evaluation.protocols`; metrics in :mod:`sgenet_ocr.metrics` and
:mod:`sgenet_ocr.evaluation.scoring`. The HR reference is read by every recogniser and
reported as restorer ``hr``.

Restoration goes through the product's :class:`~sgenet_ocr.stage.RestorationStage`: with
``--min-height H`` (default 0) only crops whose LR height is below ``H`` are restored and the
rest pass through unchanged, as in the pipeline; 0 restores every crop.

``--keep confident`` (the default, as in the pipeline; see :mod:`sgenet_ocr.keep`) adds rows
``<restorer>+confident``: per word, the recogniser's more confident reading of the LR crop and
of the restored crop (no PSNR/SSIM for them); ``--keep restored`` leaves them out. Confidences
are cached with the texts.

Output JSON: ``{"settings": {...}, "rows": [{"recognizer", "restorer", "protocol", "bucket",
"n", "accuracy", "psnr", "ssim"}]}`` (plus ``"split"`` when the data has TextZoom splits).
``--per-word`` adds ``"words"``: every word's label, bucket, source and readings, so two runs
can be compared word by word (``python -m sgenet_ocr.evaluation.compare BASE.json NEW.json``).
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from .cli import ArgumentParser, run_cli
from .errors import UsageError
from .evaluation.cache import CachedRestorer, RecognitionCache
from .evaluation.protocols import LR_HEIGHT_BUCKETS, PROTOCOLS, WordPair, load_samples
from .evaluation.scoring import make_rows, quality
from .imaging import pixels_key
from .keep import DEFAULT_KEEP, KEEP_CHOICES, keep_policy
from .metrics import word_correct
from .options import StageOptions, check_count
from .outputs import ANNOTATION_SUFFIXES, check_output_file

# Recogniser names of this CLI -> engine plugin names (the one place this mapping lives).
RECOGNIZER_ENGINES = {"easyocr": "easyocr", "ppocr": "rapidocr", "tesseract": "tesseract",
                      "rapidocr": "rapidocr", "paddleocr": "paddleocr"}
CHUNK = 64  # crops per restore / recognise call: progress stays live, memory stays flat
GRID_PER_BUCKET = 3


def engine_name(recognizer: str) -> str:
    return RECOGNIZER_ENGINES.get(recognizer, recognizer)


def split_names(text: str, what: str) -> list[str]:
    """A comma list of names from option ``--what``; at least one, or a UsageError."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--{what} needs at least one name")
    return names


def restore_samples(host, name: str, samples: Sequence[WordPair], device: str, weights: str | None,
                    min_height: int, cache: str | Path | None = None) -> tuple[list[np.ndarray], float]:
    """Outputs of restorer ``name`` for every LR crop, and seconds spent restoring.

    With ``cache`` (the ``--cache`` file), learned restorers keep their outputs in
    ``<cache>.restored/`` keyed by input pixels and weights, and reuse them on later runs."""
    from .stage import RestorationStage

    options = {"device": device}
    if name == "sgenet" and weights:
        options["weights"] = weights
    if cache and name not in ("identity", "bicubic"):
        info = _weights_info([name], weights) if name == "sgenet" else None
        tag = ((info or {}).get("sha256") or "default")[:16]
        restorer = CachedRestorer(lambda: host.restorers.create(name, **options), name,
                                  f"{cache}.restored", tag)
    else:
        restorer = host.restorers.create(name, **options)
    stage = RestorationStage(host, restorer, StageOptions(restorer=name, device=device,
                                                          min_height=min_height or float("inf")))
    outputs: list[np.ndarray] = []
    started = time.perf_counter()
    try:
        for start in tqdm(range(0, len(samples), CHUNK), desc=f"restore {name}", unit="chunk", leave=False):
            chunk = [s.lr for s in samples[start:start + CHUNK]]
            outputs.extend(stage.apply(chunk)[0])
    finally:
        restorer.close()
    return outputs, time.perf_counter() - started


def recognize_images(engine, images: Sequence[np.ndarray], desc: str, recognizer: str = "",
                     cache: RecognitionCache | None = None,
                     need_confidence: bool = False) -> list[tuple[str, float | None]]:
    """``(text, confidence)`` read by ``engine`` from RGB images (converted to its colour order),
    in chunks; images already in ``cache`` (same pixels, same recogniser) are not read again."""
    from .imaging import to_order

    cache = cache if cache is not None else RecognitionCache()
    keys = [pixels_key(im) for im in images]
    todo = [i for i, k in enumerate(keys) if cache.get(recognizer, k, need_confidence) is None]
    todo = list({keys[i]: i for i in todo}.values())  # duplicates are read once
    for start in tqdm(range(0, len(todo), CHUNK), desc=desc, unit="chunk", leave=False):
        part = todo[start:start + CHUNK]
        chunk = [to_order(images[i], engine.color_order) for i in part]
        for i, (text, conf) in zip(part, engine.recognize(chunk)):
            cache.put(recognizer, keys[i], text, conf)
        cache.save()  # a killed run keeps what it read
    return [cache.get(recognizer, k) for k in keys]


class LazyEngine:
    """Creates the engine on first use: a fully cached recogniser never loads its models."""

    def __init__(self, host, recognizer: str, device: str):
        self.host, self.recognizer, self.device = host, recognizer, device
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            name = engine_name(self.recognizer)
            try:
                self._engine = self.host.engines.create(name, device=self.device)
            except UsageError:
                if self.device == "cpu":
                    raise
                self._engine = self.host.engines.create(name, device="cpu")  # CPU-only engines
        return self._engine

    @property
    def color_order(self) -> str:
        return self.engine.color_order

    def recognize(self, crops):
        return self.engine.recognize(crops)

    def version(self) -> str:
        if self._engine is None:
            return f"{self.recognizer} (all readings from the cache)"
        try:
            return str(self._engine.version())
        except Exception:  # noqa: BLE001 - the version is informative only
            return self.recognizer

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


def evaluate(data: str | Path, protocol: str, restorers: Sequence[str], recognizers: Sequence[str],
             limit: int | None = None, device: str = "cpu", weights: str | None = None,
             min_height: int = 0, grid: str | Path | None = None, host=None,
             include_hr: bool = True, cache: str | Path | None = None, keep: str = DEFAULT_KEEP,
             per_word: bool = False, max_crop_height: int | None = None) -> dict:
    """Run the evaluation and return the JSON-ready result (see module doc); ``per_word`` adds
    every word's readings (``"words"``), which :mod:`sgenet_ocr.evaluation.compare` pairs;
    ``max_crop_height`` keeps a crops folder's crops at most that tall."""
    from .plugin_manager import PluginHost

    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    policy = keep_policy(keep)
    host = host or PluginHost()
    for name in restorers:
        if name not in host.restorers:
            raise UsageError(f"unknown restorer {name!r}; known: {', '.join(host.restorers.names())}")
    for name in recognizers:
        if engine_name(name) not in host.engines:
            raise UsageError(f"unknown recognizer {name!r}; known: {', '.join(sorted(RECOGNIZER_ENGINES))}")
    samples, skipped = load_samples(data, protocol, limit, max_crop_height)
    if not samples:
        raise UsageError(f"no samples with a usable label in {data}")

    # A policy that reads the original crop also reports "<restorer>+<policy>": the pipeline's
    # choice between the engine's readings of the LR crop (identity) and the restored crop.
    kept_restorers = [r for r in restorers if r != "identity"] if policy.reads_original else []
    outputs: dict[str, list[np.ndarray]] = {}
    seconds: dict[str, float] = {}
    for name in dict.fromkeys(list(restorers) + (["identity"] if kept_restorers else [])):
        outputs[name], seconds[name] = restore_samples(host, name, samples, device, weights, min_height, cache)
    scores = {name: [quality(o, s) for o, s in zip(outs, samples)] for name, outs in outputs.items()}
    if include_hr:
        outputs["hr"] = [s.hr for s in samples]

    memo = RecognitionCache(cache)
    rows: list[dict] = []
    texts: dict[tuple[str, str], list[str]] = {}
    versions: dict[str, str] = {}
    for recognizer in recognizers:
        engine = LazyEngine(host, recognizer, device)
        try:
            readings = {}
            for name, images in outputs.items():
                confidence_needed = policy.reads_original and name != "hr"
                readings[name] = recognize_images(engine, images, f"{recognizer} on {name}", recognizer,
                                                  memo, confidence_needed)
                texts[(recognizer, name)] = [text for text, _ in readings[name]]
                if name in restorers:
                    rows += make_rows(samples, protocol, name, recognizer, texts[(recognizer, name)],
                                      scores.get(name))
            if include_hr:
                rows += make_rows(samples, protocol, "hr", recognizer, texts[(recognizer, "hr")], None)
            # As the pipeline does, with the engine's trusted confidence (see sgenet_ocr.keep).
            engine_policy = keep_policy(policy, getattr(engine.engine, "trusted_confidence", None)
                                        if kept_restorers else None)
            for name in kept_restorers:  # no PSNR/SSIM: the kept image differs word by word
                kept, _ = engine_policy.apply(readings["identity"], readings[name])
                kept_name = f"{name}+{policy.name}"
                texts[(recognizer, kept_name)] = [text for text, _ in kept]
                rows += make_rows(samples, protocol, kept_name, recognizer, texts[(recognizer, kept_name)], None)
        finally:
            versions[recognizer] = engine.version()
            engine.close()
    settings = {
        "data": str(data), "protocol": protocol, "restorers": list(restorers),
        "recognizers": list(recognizers),
        "recognizer_engines": {r: engine_name(r) for r in recognizers}, "engine_versions": versions,
        "limit": limit, "max_crop_height": max_crop_height, "samples": len(samples), "skipped_empty_labels": skipped,
        "bucket_counts": {b: sum(s.bucket == b for s in samples) for b in LR_HEIGHT_BUCKETS},
        "device": device, "min_height": min_height, "keep": keep, "hr_reference": include_hr, "weights": _weights_info(restorers, weights),
        "restore_seconds_per_crop": {k: round(v / len(samples), 5) for k, v in seconds.items()},
        "platform": platform.platform(),
        "metrics": "accuracy: TextZoom protocol (lower-case, [0-9a-z], empty labels skipped); "
                   "psnr/ssim: RGB vs HR (see sgenet_ocr.metrics and sgenet_ocr.evaluation.scoring)",
    }
    if grid:
        _write_grid(grid, samples, outputs, texts, recognizers[0], restorers)
    result = {"settings": settings, "rows": rows}
    if per_word:
        result["words"] = word_readings(samples, texts)
    return result


def word_readings(samples: Sequence[WordPair], texts: dict[tuple[str, str], list[str]]) -> dict:
    """Columns, one entry per word in sample order: label, LR bucket, source, and each
    recogniser's reading of each restorer's output."""
    readings: dict[str, dict[str, list[str]]] = {}
    for (recognizer, restorer), words in texts.items():
        readings.setdefault(recognizer, {})[restorer] = list(words)
    return {"labels": [s.label for s in samples], "buckets": [s.bucket for s in samples],
            "sources": [s.source for s in samples], "readings": readings}


def _weights_info(restorers: Sequence[str], weights: str | None) -> dict | None:
    """Which SGENet weights ran: their file and sha256 (see :func:`sgenet_ocr.models.resolve_weights`)."""
    if "sgenet" not in restorers:
        return None
    from .models import resolve_weights

    resolved = resolve_weights(weights or True)
    return {"path": str(resolved.path), "sha256": resolved.sha256}


def _write_grid(path, samples, outputs, texts, recognizer: str, restorers: Sequence[str]) -> None:
    """Up to ``GRID_PER_BUCKET`` words per LR height bucket, smallest text first."""
    from .evaluation.grid import save_grid

    chosen: list[int] = []
    for bucket in LR_HEIGHT_BUCKETS:
        chosen += [i for i, s in enumerate(samples) if s.bucket == bucket][:GRID_PER_BUCKET]
    columns = ["lr"] + [r for r in restorers if r != "identity"] + (["hr"] if "hr" in outputs else [])
    source = {"lr": "identity" if "identity" in restorers else None}
    rows = []
    for i in chosen:
        row = {"label": samples[i].label, "correct": {}}
        for column in columns:
            key = source.get(column, column)
            image = samples[i].lr if column == "lr" else outputs[column][i]
            text = texts[(recognizer, key)][i] if key else ""
            row[column] = (image, text)
            row["correct"][column] = bool(key) and bool(word_correct(text, samples[i].label))
        rows.append(row)
    save_grid(path, columns, rows)


def print_table(result: dict) -> None:
    """Accuracy by recogniser x restorer for every bucket (the ``all`` split)."""
    rows = [r for r in result["rows"] if r.get("split", "all") == "all"]
    buckets = ("all",) + LR_HEIGHT_BUCKETS
    print(f"{'recognizer':<10} {'restorer':<9} " + " ".join(f"{b:>13}" for b in buckets) + "   psnr   ssim")
    for row_key in dict.fromkeys((r["recognizer"], r["restorer"]) for r in rows):
        cells, tail = [], ""
        for b in buckets:
            match = [r for r in rows if (r["recognizer"], r["restorer"], r["bucket"]) == (*row_key, b)]
            r = match[0] if match else None
            cells.append(f"{r['accuracy'] * 100:6.1f}% ({r['n']:>4})" if r and r["accuracy"] is not None
                         else f"{'-':>13}")
            if b == "all" and r and r["psnr"] is not None:
                tail = f" {r['psnr']:6.2f} {r['ssim']:.4f}"
        print(f"{row_key[0]:<10} {row_key[1]:<9} " + " ".join(cells) + tail)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m sgenet_ocr.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="crops folder or TextZoom LMDB (folder)")
    parser.add_argument("--protocol", default="half", choices=PROTOCOLS)
    parser.add_argument("--restorers", default="identity,bicubic,sgenet")
    parser.add_argument("--recognizers", default="easyocr,ppocr,tesseract",
                        help="comma list: " + ", ".join(f"{k} ({v})" for k, v in RECOGNIZER_ENGINES.items()))
    parser.add_argument("--limit", type=int, help="at most N words (per split)")
    parser.add_argument("--max-crop-height", type=int, metavar="PX",
                        help="only crops at most PX tall (23 on a training folder: the crops training never "
                             "uses, dev-like words <= 12 px under --protocol half)")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--grid", help="write a PNG grid of sample words here")
    parser.add_argument("--weights", help="SGENet weights (.safetensors) instead of the shipped ones")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ...")
    parser.add_argument("--no-hr", action="store_true",
                        help="skip the HR reference rows (e.g. when merging with an earlier run)")
    parser.add_argument("--cache", help="JSON file of earlier readings to reuse and extend")
    parser.add_argument("--min-height", type=int, default=0,
                        help="restore only crops whose LR height is below this (0 = all crops)")
    parser.add_argument("--per-word", action="store_true",
                        help="also write every word's readings to --json (for sgenet_ocr.evaluation.compare)")
    parser.add_argument("--keep", default=DEFAULT_KEEP, choices=KEEP_CHOICES,
                        help="confident (default): also report '<restorer>+confident' rows, the pipeline's "
                             "keep policy (more confident of the LR and restored readings); restored: not")
    return parser


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.max_crop_height is not None:
        check_count(args.max_crop_height, "--max-crop-height")
    if args.json:
        check_output_file(args.json, "--json")
    if args.grid:
        check_output_file(args.grid, "--grid", ANNOTATION_SUFFIXES)
    if args.cache:
        check_output_file(args.cache, "--cache")  # read, then extended
    result = evaluate(args.data, args.protocol, split_names(args.restorers, "restorers"),
                      split_names(args.recognizers, "recognizers"), args.limit, args.device,
                      args.weights, args.min_height, args.grid,
                      include_hr=not args.no_hr, cache=args.cache, keep=args.keep, per_word=args.per_word,
                      max_crop_height=args.max_crop_height)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print_table(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("evaluate", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
