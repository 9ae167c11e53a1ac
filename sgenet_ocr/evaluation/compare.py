"""Is one set of weights really better than another? Word-by-word comparison of two evaluations.

    python -m sgenet_ocr.evaluate --data ../shared/data/ic15_words_dev --protocol half \
        --restorers sgenet --keep restored --no-hr --per-word --json base.json
    python -m sgenet_ocr.evaluate ... --weights new.safetensors --per-word --json new.json
    python -m sgenet_ocr.evaluation.compare base.json new.json [--json diff.json]

Both runs read the same words (same data, protocol and limit), so their accuracies can be
paired: per recogniser and LR-height bucket, a word is *fixed* when only the new run reads it
right and *broken* when only the base run does. Accuracy differences of a few words are
common on ~1,000 words; the exact two-sided sign test (McNemar's, on the fixed and broken words)
says how often a difference at least this large appears when neither run is better. It asks one
question per row: with 3 recognisers x 6 buckets, one row below 0.05 is expected by chance.

Exit codes: 0 compared; 2 the files cannot be paired (no ``--per-word`` readings, other words,
no such restorer).
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..cli import ArgumentParser, run_cli
from ..errors import UsageError
from ..metrics import paired_change, word_correct
from .markdown import pct
from .protocols import LR_HEIGHT_BUCKETS
from ..outputs import check_output_file
from .report import load_result

# "<=12" pools the two buckets the model exists for (the acceptance targets' small words).
BUCKETS = ("all", "<=8", "9-12", "<=12", "13-16", ">16")
_IN = {"all": set(LR_HEIGHT_BUCKETS), "<=12": {"<=8", "9-12"}} | {b: {b} for b in LR_HEIGHT_BUCKETS}


@dataclass(frozen=True)
class PairedRow:
    """One recogniser and bucket: both accuracies, the words that changed, and the sign test."""

    recognizer: str
    bucket: str
    n: int
    base_accuracy: float | None
    new_accuracy: float | None
    fixed: int
    broken: int
    p_value: float

    @property
    def gain(self) -> int:
        return self.fixed - self.broken


def _words(result: dict, path: str) -> dict:
    words = result.get("words")
    if not words:
        raise UsageError(f"{path}: no per-word readings; run sgenet_ocr.evaluate with --per-word")
    return words


def _readings(words: dict, restorer: str, path: str) -> dict[str, list[str]]:
    found = {rec: by_restorer[restorer] for rec, by_restorer in words["readings"].items()
             if restorer in by_restorer}
    if not found:
        known = sorted({r for by_restorer in words["readings"].values() for r in by_restorer})
        raise UsageError(f"{path}: no readings of restorer {restorer!r}; it has: {', '.join(known)}")
    return found


def compare(base: dict, new: dict, base_restorer: str = "sgenet", new_restorer: str = "sgenet",
            base_name: str = "base", new_name: str = "new") -> list[PairedRow]:
    """Paired rows for every recogniser both runs read, in the base run's order."""
    base_words, new_words = _words(base, base_name), _words(new, new_name)
    if base_words["labels"] != new_words["labels"] or base_words["sources"] != new_words["sources"]:
        raise UsageError(f"{base_name} and {new_name} read different words (data, protocol or --limit differ)")
    base_texts = _readings(base_words, base_restorer, base_name)
    new_texts = _readings(new_words, new_restorer, new_name)
    shared = [r for r in base_texts if r in new_texts]
    if not shared:
        raise UsageError(f"{base_name} and {new_name} share no recogniser")
    labels, buckets = base_words["labels"], base_words["buckets"]
    rows = []
    for recognizer in shared:
        before = [word_correct(t, label) for t, label in zip(base_texts[recognizer], labels)]
        after = [word_correct(t, label) for t, label in zip(new_texts[recognizer], labels)]
        for bucket in BUCKETS:
            pairs = [(b, a) for b, a, where in zip(before, after, buckets)
                     if where in _IN[bucket] and b is not None and a is not None]
            n = len(pairs)
            fixed, broken, p = paired_change([b for b, _ in pairs], [a for _, a in pairs])
            rows.append(PairedRow(
                recognizer, bucket, n,
                round(sum(b for b, _ in pairs) / n, 4) if n else None,
                round(sum(a for _, a in pairs) / n, 4) if n else None,
                fixed, broken, round(p, 4)))
    return rows


def markdown(rows: list[PairedRow], base_name: str, new_name: str) -> str:
    lines = [f"Word accuracy %, `{base_name}` -> `{new_name}`; fixed / broken words; exact sign-test p.", "",
             "| recognizer | bucket | n | base | new | fixed | broken | net | p |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if not row.n:  # a bucket these words do not reach (a set of small words has no 13-16 px)
            continue
        lines.append(f"| {row.recognizer} | {row.bucket} | {row.n} | {pct(row.base_accuracy)} | "
                     f"{pct(row.new_accuracy)} | {row.fixed} | {row.broken} | {row.gain:+d} | {row.p_value:.3f} |")
    return "\n".join(lines) + "\n"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m sgenet_ocr.evaluation.compare",
                            description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="evaluation JSON written with --per-word (the reference)")
    parser.add_argument("new", help="evaluation JSON written with --per-word (the candidate)")
    parser.add_argument("--restorer", default="sgenet", help="restorer compared in both files (default sgenet)")
    parser.add_argument("--base-restorer", help="restorer of the base file, if not --restorer (e.g. bicubic)")
    parser.add_argument("--json", help="write the paired rows here")
    return parser


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.json:
        check_output_file(args.json, "--json", inputs=[args.base, args.new])
    rows = compare(load_result(args.base), load_result(args.new), args.base_restorer or args.restorer, args.restorer,
                   Path(args.base).name, Path(args.new).name)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"base": args.base, "new": args.new,
                                               "rows": [asdict(r) for r in rows]}, indent=1) + "\n")
    base_restorer = args.base_restorer or args.restorer
    print(markdown(rows, f"{Path(args.base).name}: {base_restorer}", f"{Path(args.new).name}: {args.restorer}"), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("compare", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
