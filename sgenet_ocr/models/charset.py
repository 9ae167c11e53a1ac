"""The reduced charset SGENet's semantic prior predicts (torch-free, so the zoo imports fast).

Index 0 is the CTC blank, then the digits, the ASCII letters and the ASCII punctuation: 95
classes. Text outside it (other scripts, spaces) is not modelled by the guidance branch.

:func:`charset_columns` maps a recogniser's full charset onto this one (used by the prior, and
by engines that hand their own probabilities to SGENet: :mod:`sgenet_ocr.prior_probs`).
"""
from __future__ import annotations

import string
from typing import Sequence

BLANK = "<blank>"
REDUCED_CHARS = string.digits + string.ascii_letters + string.punctuation
REDUCED_CHARSET: list[str] = [BLANK, *REDUCED_CHARS]
CHARSET_NAME = "blank+digits+letters+punct95"


def charset_columns(source: Sequence[str], target: Sequence[str]) -> list[int]:
    """For each class of ``target``, its column in ``source``; index 0 of both is the CTC blank,
    whatever its name. ModelError naming a character ``source`` lacks."""
    index = {ch: i for i, ch in enumerate(source[1:], start=1)}
    missing = [ch for ch in target[1:] if ch not in index]
    if missing:
        from ..errors import ModelError

        raise ModelError(f"the recogniser's charset lacks {len(missing)} of the prior's characters, "
                         f"e.g. {missing[0]!r}")
    return [0] + [index[ch] for ch in target[1:]]

