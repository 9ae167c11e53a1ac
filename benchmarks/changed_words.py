"""Which small words does restoration fix, and which does it break? Counts, lists and a picture.

    python benchmarks/changed_words.py --engines rapidocr --max-height 8 \
        --weights sgenet-ppocr --json changed.json --markdown changed.md --pictures out/

For every LR word crop of the protocol no taller than ``--max-height`` the engine reads the
original, SGENet restores it (guided by the engine's own probabilities where it provides them,
as in the pipeline) and the engine reads the restored crop. A word is *fixed* when only the
restored reading is right, *broken* when only the original one is. The picture shows, per
changed word, the LR crop (nearest-neighbour, so its pixels stay visible), the restored crop and
the HR crop, with both readings: what the model does to the words it loses.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.word_crops import (  # noqa: E402
    add_restorer_arguments, build_parser, read, read_and_restore, restorer_options, run_per_engine)
from sgenet_ocr.cli import run_cli  # noqa: E402
from sgenet_ocr.metrics import word_correct  # noqa: E402

ROW_HEIGHT = 32  # px per crop in the picture
CELL_WIDTH = 150  # px per crop column (longer words are cut)
SHOWN = 12  # changed words per kind in the picture


def measure(host, engine_name: str, restorer, samples, max_height: int, pictures: Path | None) -> dict:
    small = [s for s in samples if s.lr.shape[0] <= max_height]
    engine = host.engines.create(engine_name)
    try:
        original, restored_crops, _ = read_and_restore(engine, restorer, [s.lr for s in small])
        restored, _ = read(engine, restored_crops)
    finally:
        engine.close()
    words = []
    for i, s in enumerate(small):
        before, after = word_correct(original[i][0], s.label), word_correct(restored[i][0], s.label)
        if before is None or before == after:
            continue
        words.append({"index": i, "label": s.label, "lr_height": int(s.lr.shape[0]),
                      "kind": "fixed" if after else "broken", "original": original[i][0], "restored": restored[i][0]})
    if pictures is not None:
        pictures.mkdir(parents=True, exist_ok=True)
        draw_changes(words, small, restored_crops, pictures / f"{engine_name}_changed.png", engine_name, max_height)
    return {"engine": engine_name, "max_height": max_height, "words": len(small),
            "fixed": sum(w["kind"] == "fixed" for w in words), "broken": sum(w["kind"] == "broken" for w in words),
            "changed": words}


def draw_changes(words: list[dict], samples, restored, path: Path, engine: str, max_height: int) -> None:
    """Rows of LR | restored | HR with the label and both readings, broken words first."""
    from PIL import Image, ImageDraw

    rows = [w for w in words if w["kind"] == "broken"][:SHOWN] + [w for w in words if w["kind"] == "fixed"][:SHOWN]
    text_x = 3 * CELL_WIDTH + 12
    canvas = Image.new("RGB", (text_x + 260, 22 + (ROW_HEIGHT + 6) * max(1, len(rows))), "white")
    pen = ImageDraw.Draw(canvas)
    pen.text((4, 4), f"{engine}, words <= {max_height} px: LR (nearest) | restored | HR; label, reading of LR -> "
                     "restored", fill="black")
    for k, w in enumerate(rows):
        y = 22 + k * (ROW_HEIGHT + 6)
        sample = samples[w["index"]]
        for col, (image, nearest) in enumerate(((sample.lr, True), (restored[w["index"]], False), (sample.hr, False))):
            crop = Image.fromarray(image)
            crop = crop.resize((max(1, crop.width * ROW_HEIGHT // crop.height), ROW_HEIGHT),
                               Image.Resampling.NEAREST if nearest else Image.Resampling.BICUBIC)
            canvas.paste(crop.crop((0, 0, min(crop.width, CELL_WIDTH), ROW_HEIGHT)), (4 + col * (CELL_WIDTH + 4), y))
        colour = (170, 0, 0) if w["kind"] == "broken" else (0, 120, 0)
        pen.text((text_x, y + 2), f"{w['kind']}: {w['label']}", fill="black")
        pen.text((text_x, y + 16), f"{w['original']!r} -> {w['restored']!r}", fill=colour)
    canvas.save(path)


def markdown(report: dict) -> str:
    s = report["settings"]
    height = next((e["max_height"] for e in report["engines"]), "?")  # one run, one height
    lines = [f"### Words changed by `{s['restorer']}` ({s['protocol']}, LR text <= {height} px)", "",
             f"{s['data']}, weights sha256 {str(s['weights_sha256'])[:12]}, {s['date']}", "",
             "| engine | words | fixed | broken | net |", "|---|---|---|---|---|"]
    for e in report["engines"]:
        lines.append(f"| {e['engine']} | {e['words']} | {e['fixed']} | {e['broken']} | {e['fixed'] - e['broken']:+d} |")
    for e in report["engines"]:
        broken = ", ".join(f"{w['label']} ({w['original']} -> {w['restored']})"
                           for w in e["changed"] if w["kind"] == "broken")
        lines += ["", f"{e['engine']}, broken: {broken or 'none'}"]
    return "\n".join(lines) + "\n"


def _main(argv) -> int:
    parser = build_parser("changed_words.py", __doc__.split("\n\n")[0], "rapidocr,easyocr,tesseract", "sgenet")
    parser.add_argument("--max-height", type=int, default=12, help="LR text height of the words compared")
    add_restorer_arguments(parser)
    parser.add_argument("--pictures", type=Path, help="folder for one <engine>_changed.png per engine")
    args = parser.parse_args(argv)
    if args.max_height < 1:
        parser.error("--max-height must be at least 1")

    def per_engine(host, name, restorer, samples):
        return measure(host, name, restorer, samples, args.max_height, args.pictures)

    report = run_per_engine(args, per_engine, markdown, **restorer_options(args))
    return 0 if report["engines"] else 2


def main(argv=None) -> int:
    return run_cli("changed-words", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
