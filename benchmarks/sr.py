"""Super-resolution benchmark on word crops: ``sgenet_ocr.evaluate`` over each protocol, one table.

Runs ``python -m sgenet_ocr.evaluate`` (its documented command line) once per protocol on the
crop sets found in the data folder (``ic15_words_dev`` by default; training sets are never
used), merges the JSON rows and writes one JSON and one markdown table.

Example::

    python benchmarks/sr.py --data ../shared/data --protocols half,third --limit 300 \
        --restorers identity,bicubic,sgenet --recognizers easyocr,ppocr,tesseract \
        --json benchmarks/results/sr.json --markdown benchmarks/results/sr.md
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from sgenet_ocr.cli import ArgumentParser, run_cli
from sgenet_ocr.evaluation.markdown import num, pct
from sgenet_ocr.evaluation.protocols import LR_HEIGHT_BUCKETS
from sgenet_ocr.outputs import output_file

DEV_CROP_SETS = ("ic15_words_dev",)  # evaluation crops; the *_train sets trained the model


def evaluate_once(data: Path, protocol: str, restorers: str, recognizers: str, limit: int | None,
                  extra: Sequence[str] = ()) -> dict[str, Any]:
    """One ``sgenet_ocr.evaluate`` run; returns its JSON (``{"settings", "rows"}``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "eval.json"
        command = [sys.executable, "-m", "sgenet_ocr.evaluate", "--data", str(data), "--protocol", protocol,
                   "--restorers", restorers, "--recognizers", recognizers, "--json", str(out),
                   "--keep", "restored", *extra]  # the SR rows themselves; e2e scores the keep policy
        if limit:
            command += ["--limit", str(limit)]
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0 or not out.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"sgenet_ocr.evaluate failed (exit {done.returncode}) on {data.name} "
                               f"{protocol}: {' | '.join(tail)}")
        return json.loads(out.read_text(encoding="utf-8"))


def markdown_table(rows: list[dict]) -> str:
    """One line per crop set x protocol x recogniser x restorer: accuracy by LR height, PSNR, SSIM."""
    index = {(r.get("dataset"), r["protocol"], r["recognizer"], r["restorer"], r["bucket"]): r for r in rows}
    keys = list(dict.fromkeys((r.get("dataset"), r["protocol"], r["recognizer"], r["restorer"]) for r in rows))
    head = "| crops | protocol | recogniser | restorer | " + " | ".join(f"acc % {b}" for b in LR_HEIGHT_BUCKETS) + \
           " | acc % all | n all | PSNR dB | SSIM |"
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for key in keys:
        cell = {b: index.get((*key, b), {}) for b in (*LR_HEIGHT_BUCKETS, "all")}
        whole = cell["all"]
        lines.append("| " + " | ".join([
            str(key[0]), key[1], key[2], key[3], *(pct(cell[b].get("accuracy")) for b in LR_HEIGHT_BUCKETS),
            pct(whole.get("accuracy")), str(whole.get("n", "–")), num(whole.get("psnr"), 2),
            num(whole.get("ssim"), 3)]) + " |")
    return "\n".join(lines)


def run(data_root: Path, protocols: Sequence[str], restorers: str, recognizers: str, limit: int | None,
        extra: Sequence[str] = ()) -> dict[str, Any]:
    from tqdm import tqdm

    sets = [data_root / name for name in DEV_CROP_SETS if (data_root / name / "labels.tsv").is_file()]
    if not sets:
        raise SystemExit(f"no crop set ({', '.join(DEV_CROP_SETS)}) under {data_root}")
    rows, runs = [], []
    jobs = [(s, p) for s in sets for p in protocols]
    for crop_set, protocol in tqdm(jobs, desc="sr protocols", unit="run"):
        t0 = time.perf_counter()
        result = evaluate_once(crop_set, protocol, restorers, recognizers, limit, extra)
        runs.append({"crops": crop_set.name, "protocol": protocol, "seconds": round(time.perf_counter() - t0, 1),
                     "evaluate_settings": result.get("settings", {})})
        rows.extend({"dataset": crop_set.name, **row} for row in result.get("rows", []))
    settings = {"data": str(data_root), "crop_sets": [s.name for s in sets], "protocols": list(protocols),
                "restorers": restorers.split(","), "recognizers": recognizers.split(","), "limit": limit,
                "runs": runs}
    return {"settings": settings, "rows": rows}


def _main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder")
    p.add_argument("--protocols", default="half,third,half-blur")
    p.add_argument("--restorers", default="identity,bicubic,sgenet")
    p.add_argument("--recognizers", default="easyocr,ppocr,tesseract")
    p.add_argument("--limit", type=int, default=None, help="first N crops of each set")
    p.add_argument("--json", type=output_file("--json"))
    p.add_argument("--markdown", type=output_file("--markdown"))
    p.add_argument("--weights", type=Path, help="SGENet weights instead of the shipped ones")
    args = p.parse_args(argv)
    extra = ["--weights", str(args.weights)] if args.weights else []
    result = run(args.data, [x for x in args.protocols.split(",") if x], args.restorers, args.recognizers,
                 args.limit, extra)
    result["settings"]["weights"] = str(args.weights) if args.weights else "shipped"
    table = markdown_table(result["rows"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        limit = f"first {args.limit} crops" if args.limit else "all crops"
        args.markdown.write_text(f"### Super-resolution on word crops ({limit})\n\n{table}\n", encoding="utf-8")
    if not args.json and not args.markdown:
        print(table)
    return 0


def main(argv=None) -> int:
    return run_cli("sr", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
