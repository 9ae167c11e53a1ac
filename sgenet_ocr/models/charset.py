"""The reduced charset SGENet's semantic prior predicts (torch-free, so the zoo imports fast).

Index 0 is the CTC blank, then the digits, the ASCII letters and the ASCII punctuation: 95
classes. Text outside it (other scripts, spaces) is not modelled by the guidance branch.
"""
from __future__ import annotations

import string

BLANK = "<blank>"
REDUCED_CHARS = string.digits + string.ascii_letters + string.punctuation
REDUCED_CHARSET: list[str] = [BLANK, *REDUCED_CHARS]
CHARSET_NAME = "blank+digits+letters+punct95"
