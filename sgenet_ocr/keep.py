"""The keep policy: which reading of a restored word the pipeline reports.

A restored word has two possible readings, the engine's reading of the restored crop and of the
original crop. The policy picks one. A policy that reads the original crop may also *trust* a
confident enough reading of it (``trust``): that word is not restored at all, which saves the
restoration and the second reading (the pipeline reads originals first for this). It is used by :class:`~sgenet_ocr.pipeline.Pipeline`,
:mod:`sgenet_ocr.evaluate` and ``benchmarks/e2e.py``, so all three score the same rule, and
:data:`DEFAULT_KEEP` is the one default everywhere.

To change the rule, change or add a :class:`KeepPolicy` here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

from .errors import UsageError

Reading = tuple[str, float]  # (text, confidence) as an engine returns it


def _never(original: Reading, restored: Reading) -> bool:
    return False


def _more_confident(original: Reading, restored: Reading) -> bool:
    # Strictly more confident: a tie keeps the restored reading.
    return original[1] > restored[1]


@dataclass(frozen=True)
class KeepPolicy:
    """One rule for a restored word's reading.

    Attributes:
        name: the value of ``--keep`` / ``keep=``.
        reads_original: the rule needs the engine's reading of the original crop too (one more
            recognition per restored word), and results report ``kept_original``.
        prefers_original: ``(original, restored) -> bool``: keep the original crop's reading.
        trust: with ``reads_original``, a reading of the original at least this confident is
            kept as it is and the crop need not be restored (``None``: never; the pipeline
            takes the engine's ``trusted_confidence`` unless ``--trust`` says otherwise).
    """

    name: str
    reads_original: bool
    prefers_original: Callable[[Reading, Reading], bool]
    help: str = ""
    trust: float | None = None

    def trusts(self, original: Reading) -> bool:
        """The original crop's reading is kept without restoring the crop."""
        return self.reads_original and self.trust is not None and original[1] >= self.trust

    def choose(self, original: Reading, restored: Reading, was_restored: bool = True) -> tuple[Reading, bool]:
        """``(kept reading, kept_original)`` for one word; unrestored words keep their reading."""
        if was_restored and self.reads_original and (self.trusts(original) or self.prefers_original(original, restored)):
            return original, True
        return restored, False

    def apply(self, originals: Sequence[Reading], restored: Sequence[Reading],
              flags: Sequence[bool] | None = None) -> tuple[list[Reading], list[bool]]:
        """:meth:`choose` word by word; ``flags`` (default: all) says which words were restored."""
        flags = [True] * len(restored) if flags is None else flags
        chosen = [self.choose(o, r, f) for o, r, f in zip(originals, restored, flags)]
        return [reading for reading, _ in chosen], [kept for _, kept in chosen]


KEEP_POLICIES: dict[str, KeepPolicy] = {
    "restored": KeepPolicy("restored", False, _never, "always the restored crop's reading"),
    "confident": KeepPolicy(
        "confident", True, _more_confident,
        "the more confident of the engine's readings of the original and restored crops "
        "(one more recognition per restored word)"),
}
KEEP_CHOICES = tuple(KEEP_POLICIES)
#: The measured best choice (README, benchmarks/results/summary.md): restoration then only
#: replaces readings the engine was less sure of.
DEFAULT_KEEP = "confident"


def keep_policy(policy: "str | KeepPolicy | None" = None, trust: float | None = None) -> KeepPolicy:
    """The named policy (``None``: :data:`DEFAULT_KEEP`), trusting original readings at least
    ``trust`` confident when given; UsageError listing the known ones."""
    if not isinstance(policy, KeepPolicy):
        name = DEFAULT_KEEP if policy is None else policy
        try:
            policy = KEEP_POLICIES[name]
        except (KeyError, TypeError):
            raise UsageError(f"unknown keep policy {name!r}; known: {', '.join(KEEP_CHOICES)}") from None
    return policy if trust is None else replace(policy, trust=float(trust))
