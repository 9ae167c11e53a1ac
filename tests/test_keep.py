"""The keep policy (sgenet_ocr.keep): one rule and one default for pipeline, evaluation and benchmarks."""
from __future__ import annotations

import pytest

from sgenet_ocr.errors import UsageError
from sgenet_ocr.keep import DEFAULT_KEEP, KEEP_CHOICES, keep_policy
from sgenet_ocr.results import Page


def test_keep_confident_picks_the_more_confident_reading_and_ties_keep_the_restored():
    original = [("exit", 0.9), ("road", 0.2), ("park", 0.5)]
    restored = [("exlt", 0.4), ("read", 0.8), ("bark", 0.5)]
    kept, kept_original = keep_policy("confident").apply(original, restored)
    assert [text for text, _ in kept] == ["exit", "read", "bark"]
    assert kept_original == [True, False, False]


def test_unrestored_words_keep_their_reading_and_restored_never_reads_the_original():
    confident, restored_policy = keep_policy("confident"), keep_policy("restored")
    assert confident.choose(("a", 0.9), ("b", 0.1), was_restored=False) == (("b", 0.1), False)
    assert restored_policy.choose(("a", 0.9), ("b", 0.1)) == (("b", 0.1), False)
    assert confident.reads_original and not restored_policy.reads_original


def test_one_default_everywhere():
    import inspect

    from sgenet_ocr import Pipeline
    from sgenet_ocr.evaluate import build_parser, evaluate
    from sgenet_ocr.options import StageOptions

    assert DEFAULT_KEEP == "confident" and DEFAULT_KEEP in KEEP_CHOICES
    assert keep_policy(None).name == DEFAULT_KEEP
    assert inspect.signature(Pipeline).parameters["keep"].default == DEFAULT_KEEP
    assert inspect.signature(evaluate).parameters["keep"].default == DEFAULT_KEEP
    assert build_parser().parse_args(["--data", "x"]).keep == DEFAULT_KEEP
    assert StageOptions().keep == DEFAULT_KEEP
    assert Page("p", 1, 1, "e", "r").keep == DEFAULT_KEEP


def test_unknown_policy_lists_the_known_ones():
    with pytest.raises(UsageError, match="unknown keep policy 'best'; known: restored, confident"):
        keep_policy("best")


def test_a_trusted_reading_of_the_original_is_kept_even_when_the_restored_one_is_surer():
    policy = keep_policy("confident", 0.8)
    assert policy.trusts(("exit", 0.85)) and not policy.trusts(("exit", 0.79))
    kept, kept_original = policy.apply([("exit", 0.85), ("road", 0.5)], [("exlt", 0.95), ("read", 0.9)])
    assert [text for text, _ in kept] == ["exit", "read"] and kept_original == [True, False]
    assert not keep_policy("restored", 0.8).trusts(("exit", 1.0))  # it never reads the original
    assert keep_policy("confident").trust is None and not keep_policy("confident").trusts(("a", 1.0))


def test_trust_is_a_confidence():
    from sgenet_ocr.options import resolve_options

    assert resolve_options(trust=0.9).trust == 0.9 and resolve_options().trust is None
    for bad in (-0.1, "0.9", True, float("nan")):
        with pytest.raises(UsageError, match="trust"):
            resolve_options(trust=bad)
    with pytest.raises(UsageError, match="preset: trust"):
        resolve_options(preset={"trust": "high"})
