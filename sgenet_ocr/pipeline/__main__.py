"""``python -m sgenet_ocr.pipeline IMAGE|DIR ...``: OCR with a restoration stage.

Exit codes: see :data:`sgenet_ocr.errors.EXIT_CODES` (0 ok, 2 usage, 3 unreadable input,
4 missing extra, 5 plugin error, 6 model weights, 1 internal error, 130 interrupted).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import ArgumentParser, exit_codes_epilog, print_error, run_cli
from ..errors import InputImageError, UsageError
from ..imaging import path_problem
from ..documents import DEFAULT_DPI, INPUT_SUFFIXES, check_dpi, list_inputs, load_page, page_count
from ..keep import KEEP_POLICIES
from ..options import DEFAULT_MIN_HEIGHT, parse_key_value, resolve_options
from ..outputs import STDOUT, check_outputs, page_names
from ..plugin_manager import PluginHost
from ..presets import load_preset
from ..results import Document
from . import Pipeline, document_exit_code

PROG = "python -m sgenet_ocr.pipeline"


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0], epilog=exit_codes_epilog(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", help="images, PDFs or folders of them (every page of a PDF or TIFF)")
    # None defaults: a preset fills them, then the defaults of sgenet_ocr.options.
    p.add_argument("--engine", help="OCR engine (default: easyocr)")
    p.add_argument("--restorer", help="restorer (default: the engine's preferred one, bicubic for rapidocr and "
                                      "paddleocr; else sgenet when trained weights are shipped, else bicubic)")
    p.add_argument("--min-height", type=float, help=f"restore text lower than this, page px (default {DEFAULT_MIN_HEIGHT})")
    p.add_argument("--device", help="device for the restorer: cpu (default), cuda or cuda:N")
    p.add_argument("--threads", type=int, help="CPU threads of the restorer (torch, onnxruntime) and of engines that "
                                               "take a threads option (default: half the physical cores)")
    p.add_argument("--pipeline", help="preset name (see --list-plugins) or YAML path; flags override it")
    p.add_argument("--compare", action="store_true", help="also report the engine-alone reading of restored words")
    p.add_argument("--trust", type=float, metavar="CONFIDENCE",
                   help="keep an original reading at least this confident without restoring the crop (default: "
                        "the engine's: 0.8 rapidocr and paddleocr, 0.9 easyocr, none for tesseract; above 1: "
                        "restore every small crop; only with --keep confident)")
    p.add_argument("--no-engine-prior", dest="engine_prior", action="store_const", const=False,
                   help="run SGENet's prior even when the engine's recogniser is that prior (rapidocr, "
                        "paddleocr); by default their reading of the original crop guides SGENet")
    p.add_argument("--keep", choices=list(KEEP_POLICIES),
                   help="reading kept for a restored word: " +
                        "; ".join(f"{k}: {v.help}" for k, v in KEEP_POLICIES.items()) + " (default confident)")
    p.add_argument("--engine-option", action="append", default=[], metavar="KEY=VALUE",
                   help="engine option, e.g. batch_size=8 (repeatable; over the preset's engine_options)")
    p.add_argument("--restorer-option", action="append", default=[], metavar="KEY=VALUE",
                   help="restorer option, e.g. weights=W.safetensors (repeatable)")
    p.add_argument("--dpi", type=int, default=DEFAULT_DPI,
                   help=f"resolution PDF pages are rendered at (default {DEFAULT_DPI})")
    p.add_argument("--json", type=Path, help="write results as JSON (schema in README); - for standard output")
    p.add_argument("--annotate", type=Path, help="annotated PNG (a folder when several inputs)")
    p.add_argument("--save-crops", type=Path, help="folder for original|restored crop pairs")
    p.add_argument("--plugin", action="append", default=[], help="extra plugin: .py path or module (repeatable)")
    p.add_argument("--list-plugins", action="store_true", help="list plugins, engines, restorers, presets and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="print no text, only errors")
    return p


def main(argv: list[str] | None = None) -> int:
    return run_cli(None, _main, argv)


def _main(argv) -> int:
    parser = build_parser()
    # Plugins may add options, so load them (one host for the whole run) before the full parse.
    early, _ = parser.parse_known_args(argv)
    host = PluginHost(early.plugin)
    host.call("add_options", parser=parser)  # two plugins adding one option: the second is named
    args = parser.parse_args(argv)

    if args.list_plugins:
        _list_plugins(host)
        return 0
    if not args.inputs:
        raise UsageError("no input images given (see --help)")
    check_dpi(args.dpi)

    flags = dict(vars(args))
    flags["engine_options"] = parse_key_value(flags.pop("engine_option"), "--engine-option")
    flags["restorer_options"] = parse_key_value(flags.pop("restorer_option"), "--restorer-option")
    options = resolve_options(flags, load_preset(args.pipeline) if args.pipeline else None)
    files, errors = _expand_inputs(args.inputs)
    several = len(args.inputs) > 1 or any(Path(i).is_dir() for i in args.inputs) or \
        any(page_count(f) > 1 for f in files)
    check_outputs(args.json, args.annotate, args.save_crops, args.inputs, files, several)
    to_stdout = args.json is not None and str(args.json) == STDOUT  # then the JSON is all stdout holds
    quiet = args.quiet or to_stdout

    doc = Document(errors=errors)
    if files:
        with Pipeline.from_options(options, host, keep_crops=args.save_crops is not None) as pipeline:
            found = pipeline.run_many(files, progress=not quiet, dpi=args.dpi)
        doc.pages, doc.errors = found.pages, errors + found.errors

    if args.json:  # first: a failing annotation never costs the results
        text = json.dumps(doc.export(), indent=2, ensure_ascii=False)
        if to_stdout:
            print(text)
        else:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text, encoding="utf-8")
    names = page_names([p.source for p in doc.pages], [p.page for p in doc.pages])
    for page, name in zip(doc.pages, names):
        if not quiet:
            _print_page(page, args.compare)
        if args.annotate:
            from ..annotate import annotate_page

            out = args.annotate / f"{name}.png" if several else args.annotate
            out.parent.mkdir(parents=True, exist_ok=True)
            annotate_page(load_page(page.source, page.page, args.dpi), page).save(out)
        if args.save_crops:
            from ..annotate import save_crops

            save_crops(page, args.save_crops, name)
    for e in doc.errors:
        print_error(e["error"])
    return document_exit_code(doc)


def _expand_inputs(inputs: list[str]) -> tuple[list[Path], list[dict[str, str]]]:
    files, errors = [], []
    for item in inputs:
        path = Path(item)
        problem = path_problem(path)
        if problem:
            errors.append({"source": item, "error": problem})
        elif path.is_dir():
            try:
                found = list_inputs(path)
            except InputImageError as exc:
                errors.append({"source": item, "error": str(exc)})
                continue
            if not found:
                errors.append({"source": item, "error": f"{item}: folder holds no images ({', '.join(sorted(INPUT_SUFFIXES))})"})
            files.extend(found)
        else:
            files.append(path)
    return files, errors


def _print_page(page, compare: bool) -> None:
    t = page.timings
    where = page.source + (f" page {page.page}" if page.page is not None else "")
    print(f"== {where} ({page.width}x{page.height}, engine {page.engine}, restorer {page.restorer}, "
          f"{len(page.words)} words, {sum(w.restored for w in page.words)} restored; "
          f"detect {t.get('detect', 0):.2f}s restore {t.get('restore', 0):.2f}s recognize {t.get('recognize', 0):.2f}s)")
    for w in page.words:
        mark = "*" if w.restored else " "
        line = f"{mark} {w.text}"
        if compare and w.restored and w.baseline_text != w.text:
            line += f"    (engine alone: {w.baseline_text})"
        print(line)


def _list_plugins(host: PluginHost) -> None:
    from ..presets import known_presets

    print("plugins:   " + ", ".join(host.plugin_names()))
    print("engines:   " + ", ".join(host.engines.names()))
    print("restorers: " + ", ".join(host.restorers.names()))
    print("presets:   " + ", ".join(sorted(known_presets())))


if __name__ == "__main__":
    sys.exit(main())
