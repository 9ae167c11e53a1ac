"""Shared steps of the word-crop benchmarks: read and restore crops in chunks, with the engine's
prior probabilities where it provides them (``engine_prior_parity.py``, ``trust.py``,
``changed_words.py``); read a protocol's small words with several engines (``blur_headroom.py``,
``resampling_paths.py``); write the report."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from sgenet_ocr.imaging import to_order
from sgenet_ocr.outputs import output_file

CHUNK = 64  # crops per call: memory stays flat on a thousand words


def read(engine, images, charset=None) -> tuple[list, list]:
    """The engine's readings of RGB images, and per crop its probabilities over ``charset``
    (``None`` where not asked for or not provided)."""
    readings, probs = [], []
    for start in range(0, len(images), CHUNK):
        chunk = [to_order(c, engine.color_order) for c in images[start:start + CHUNK]]
        got, p = engine.recognize_with_probs(chunk, charset) if charset else (engine.recognize(chunk), None)
        readings += got
        probs += list(p) if p is not None else [None] * len(chunk)
    return readings, probs


def restore(restorer, crops, probs=None) -> list:
    """``restorer`` on ``crops``; guided by ``probs`` (one entry per crop) when given."""
    out = []
    for start in range(0, len(crops), CHUNK):
        extra = {} if probs is None else {"prior_probs": probs[start:start + CHUNK]}
        out += restorer.restore(crops[start:start + CHUNK], **extra)
    return out


def read_and_restore(engine, restorer, crops) -> tuple[list, list, bool]:
    """The engine's readings of ``crops``, the restorer's output, and whether the restorer was
    guided by the engine's own probabilities (it is when the engine's recogniser is the
    restorer's prior, as in the pipeline)."""
    guided = getattr(engine, "recognizer_prior", None) == restorer.guided_by
    originals, probs = read(engine, crops, restorer.prior_charset if guided else None)
    return originals, restore(restorer, crops, probs if guided else None), guided


def write_report(report: dict, json_path: Path, markdown_path: Path | None, markdown: Callable[[dict], str]) -> None:
    """The JSON, the markdown (when asked) and the markdown on standard output."""
    json_path.write_text(json.dumps(report, indent=1))
    text = markdown(report)
    if markdown_path:
        markdown_path.write_text(text)
    print(text)


def run_per_engine(args, per_engine: Callable, markdown: Callable[[dict], str], **restorer_options) -> dict:
    """Load ``args.data`` under ``args.protocol``, create ``args.restorer``, call
    ``per_engine(host, engine_name, restorer, samples)`` for each of ``args.engines`` and write the
    report (``settings`` + ``engines``) to ``args.json`` / ``args.markdown``."""
    import platform
    import time

    from sgenet_ocr.evaluation.protocols import load_samples
    from sgenet_ocr.plugin_manager import PluginHost

    samples, _ = load_samples(args.data, args.protocol, args.limit)
    host = PluginHost()
    restorer = host.restorers.create(args.restorer, **restorer_options)
    try:
        report = {"settings": {"data": str(args.data), "protocol": args.protocol, "restorer": args.restorer,
                               "weights_sha256": getattr(restorer, "weights_sha256", None), "words": len(samples),
                               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "machine": platform.processor() or platform.machine()},
                  "engines": [per_engine(host, name.strip(), restorer, samples)
                              for name in args.engines.split(",") if name.strip()]}
    finally:
        restorer.close()
    write_report(report, args.json, args.markdown, markdown)
    return report


def build_parser(prog: str, description: str, engines: str, restorer: str):
    """The arguments both benchmarks take: data, protocol, engines, restorer, limit, outputs."""
    import os

    from sgenet_ocr.cli import ArgumentParser
    from sgenet_ocr.evaluation.protocols import PROTOCOLS

    p = ArgumentParser(prog=f"python benchmarks/{prog}", description=description)
    p.add_argument("--data", type=Path, default=Path(os.environ.get("SGENET_DATA", "../shared/data")) / "ic15_words_dev")
    p.add_argument("--protocol", choices=PROTOCOLS, default="half")
    p.add_argument("--engines", default=engines, help=f"comma separated (default {engines})")
    p.add_argument("--restorer", default=restorer, help=f"sgenet or sgenet-onnx (default {restorer})")
    p.add_argument("--limit", type=int, help="first N words only")
    p.add_argument("--json", type=output_file("--json"), required=True)
    p.add_argument("--markdown", type=output_file("--markdown"))
    return p


def add_restorer_arguments(p) -> None:
    """``--weights`` and ``--threads`` for the restorer a word-crop benchmark creates."""
    p.add_argument("--weights", help="weights name or .safetensors (default: the shipped generic ones)")
    p.add_argument("--threads", type=int, default=1, help="restorer threads (default 1)")


def restorer_options(args) -> dict:
    """The restorer options :func:`add_restorer_arguments` asked for."""
    return {"threads": args.threads, **({"weights": args.weights} if args.weights else {})}


def small_words_parser(prog: str, description: str, protocol: str, limit: int | None):
    """The arguments of the benchmarks that read a protocol's small words with several engines,
    no restorer (``blur_headroom.py``, ``resampling_paths.py``)."""
    import os

    from sgenet_ocr.cli import ArgumentParser
    from sgenet_ocr.evaluation.protocols import PROTOCOLS

    p = ArgumentParser(prog=f"python benchmarks/{prog}", description=description)
    p.add_argument("--data", type=Path, default=Path(os.environ.get("SGENET_DATA", "../shared/data")) / "ic15_words_dev")
    p.add_argument("--protocol", choices=PROTOCOLS, default=protocol)
    p.add_argument("--engines", default="rapidocr,tesseract,easyocr")
    p.add_argument("--limit", type=int, default=limit, help="first N words of the protocol")
    p.add_argument("--max-height", type=int, default=12, help="only words whose LR crop is at most this tall")
    p.add_argument("--json", type=output_file("--json"), required=True)
    p.add_argument("--markdown", type=output_file("--markdown"))
    return p


def run_small_words(args, measure: Callable, markdown: Callable[[dict], str], **settings) -> dict:
    """The words of ``args.protocol`` whose LR crop is at most ``args.max_height`` px tall:
    ``measure(host, engine_name, words)`` for each of ``args.engines``, and the report
    (``settings`` + ``engines``) written to ``args.json`` / ``args.markdown``."""
    import sys
    import time

    from sgenet_ocr.errors import UsageError
    from sgenet_ocr.evaluate import split_names
    from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS, load_samples, lr_height_bucket
    from sgenet_ocr.plugin_manager import PluginHost

    if (args.limit is not None and args.limit < 1) or args.max_height < 1:
        raise UsageError("--limit and --max-height must be at least 1")
    engines = split_names(args.engines, "engines")
    samples, _ = load_samples(args.data, args.protocol, args.limit)
    small = [s for s in samples if s.lr.shape[0] <= args.max_height]
    if not small:
        raise UsageError(f"no word is at most {args.max_height} px tall")
    host = PluginHost()
    report = {"settings": {"data": str(args.data), "protocol": args.protocol, "limit": args.limit,
                           "max_height": args.max_height, "words": len(small),
                           "words_by_bucket": {b: sum(lr_height_bucket(s.lr.shape[0]) == b for s in small)
                                               for b in LR_HEIGHT_BUCKETS},
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **settings},
              "engines": []}
    for name in engines:
        print(f"{name} ...", file=sys.stderr, flush=True)
        report["engines"].append(measure(host, name, small))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_report(report, args.json, args.markdown, markdown)
    return report


def read_right(host, engine_name: str, samples, transforms: dict) -> dict[str, list[bool]]:
    """Per transform (name -> function of the LR crop; ``None`` = the HR crop), whether the engine
    reads each word right after it."""
    from sgenet_ocr.metrics import word_correct

    engine = host.engines.create(engine_name)
    try:
        right = {}
        for name, transform in transforms.items():
            readings, _ = read(engine, [s.hr if transform is None else transform(s.lr) for s in samples])
            right[name] = [bool(word_correct(text, s.label)) for (text, _), s in zip(readings, samples)]
        return right
    finally:
        engine.close()


def engines_table(engines: list[dict], rows: str, label: str, cell: Callable[[dict], str],
                  header: str | None = None) -> list[str]:
    """Markdown table lines: one row per entry of each engine's ``rows`` list (the same entries
    in the same order for every engine), named by the entry's ``label``; one column per engine,
    ``cell(entry)`` in each; the first column is titled ``header`` (default: ``label``)."""
    lines = [f"| {header or label} | " + " | ".join(e["engine"] for e in engines) + " |",
             "|---|" + "---|" * len(engines)]
    for i, row in enumerate(engines[0][rows]):
        lines.append(f"| {row[label]} | " + " | ".join(cell(e[rows][i]) for e in engines) + " |")
    return lines
