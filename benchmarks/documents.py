"""Documents benchmark: searchable PDFs of small-print receipts through OCRmyPDF.

    python benchmarks/documents.py --data ../shared/data --pages 5 --dpi 100 150 \
        --json benchmarks/results/documents.json

The first ``--pages`` SROIE receipts (scanned at about 150 DPI) are resampled to each ``--dpi`` and
put in one multi-page PDF per resolution, so the print gets smaller as the DPI drops. Each PDF goes
through ``ocrmypdf``: (a) its own Tesseract engine, (b) our plugin with each engine and the
``identity`` restorer (the engine alone, through our pipeline), (c) the same with SGENet
(``sgenet-onnx`` by default: the same weights on onnxruntime, the faster restorer). The
text layer of every output is extracted (pypdfium2) and scored against the receipts' ground truth
as a bag of words (TextZoom normalisation: lower case, ``[0-9a-z]`` only): recall, precision and
F1, and wall-clock seconds per page (``--jobs 1``, models loaded once per run and counted).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.datasets import load_dataset  # noqa: E402
from benchmarks.scoring import recall_precision_f1  # noqa: E402
from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.metrics import normalize_text  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402

SCAN_DPI = 150  # SROIE receipts carry 150 DPI in their JPEG headers
ENGINES = ("tesseract", "rapidocr", "paddleocr", "easyocr")


def words(text: str) -> Counter:
    return Counter(w for w in (normalize_text(t) for t in text.split()) if w)


def build_pdf(images: list[Path], dpi: int, out: Path) -> Path:
    scale = dpi / SCAN_DPI
    pages = []
    for path in images:
        img = Image.open(path).convert("RGB")
        pages.append(img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS))
    pages[0].save(out, save_all=True, append_images=pages[1:], resolution=dpi)
    return out


def text_layer(pdf: Path) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def run_ocrmypdf(pdf: Path, out: Path, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "ocrmypdf", "--jobs", "1", "--output-type", "pdf", "--quiet", *extra,
           str(pdf), str(out)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ocrmypdf failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start


def configs(engines: list[str], sr_restorer: str = "sgenet-onnx") -> list[tuple[str, list[str]]]:
    runs = [("ocrmypdf tesseract", ["--ocr-engine", "tesseract"])]
    for engine in engines:
        for restorer in ("identity", sr_restorer):
            runs.append((f"{engine} + {restorer}", ["--plugin", "sgenet_ocr.ocrmypdf_plugin", "--sgenet-engine",
                                                    engine, "--sgenet-restorer", restorer]))
    return runs


def score(pages_text: list[str], truth: list[Counter]) -> dict:
    hits = gt_total = pred_total = 0
    for text, gt in zip(pages_text, truth):
        pred = words(text)
        hits += sum((pred & gt).values())
        gt_total += sum(gt.values())
        pred_total += sum(pred.values())
    recall, precision, f1 = recall_precision_f1(hits, gt_total, pred_total)
    return {"recall": recall, "precision": precision, "f1": f1, "gt_words": gt_total, "predicted_words": pred_total}


def main(argv: list[str] | None = None) -> int:
    return run_cli("documents", _main, argv)


def _main(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="python benchmarks/documents.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SGENET_DATA", "../shared/data"))
    parser.add_argument("--pages", type=int, default=5, help="receipts (PDF pages) per resolution")
    parser.add_argument("--dpi", type=int, nargs="+", default=[100, 150])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--restorer", default="sgenet-onnx", help="the SGENet restorer of the (c) rows")
    parser.add_argument("--json", type=output_file("--json"), default="benchmarks/results/documents.json")
    args = parser.parse_args(argv)

    dataset = load_dataset(Path(args.data) / "sroie_dev", limit=args.pages)
    truth = [words(" ".join(g.text for g in s.items if not g.dont_care)) for s in dataset.samples]
    results = []
    with tempfile.TemporaryDirectory(prefix="sgenet-docs-") as tmp:
        for dpi in args.dpi:
            pdf = build_pdf([s.image_path for s in dataset.samples], dpi, Path(tmp) / f"receipts_{dpi}.pdf")
            for name, extra in configs(args.engines, args.restorer):
                out = Path(tmp) / "out.pdf"
                seconds = run_ocrmypdf(pdf, out, extra)
                row = {"dpi": dpi, "run": name, "pages": len(truth), "seconds_per_page": seconds / len(truth),
                       **score(text_layer(out), truth)}
                results.append(row)
                print(f"{dpi:>4} DPI  {name:<24} recall {row['recall']:.3f}  precision {row['precision']:.3f}  "
                      f"F1 {row['f1']:.3f}  {row['seconds_per_page']:.1f} s/page", flush=True)
    report = {"data": "sroie_dev", "pages": len(truth), "scan_dpi": SCAN_DPI, "ocrmypdf_jobs": 1,
              "cpu_count": os.cpu_count(), "results": results}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
