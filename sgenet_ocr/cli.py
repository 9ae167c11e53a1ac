"""What every command-line entry point shares: one-line errors and the documented exit codes.

Each ``main(argv)`` (pipeline, export, evaluate, train, the TextZoom converter, the benchmarks)
is ``run_cli(COMMAND, body, argv)``: the body parses with :class:`ArgumentParser` and raises
:class:`~sgenet_ocr.errors.SgenetOcrError` subclasses; ``run_cli`` turns whatever escapes into
one line on stderr, ``sgenet-ocr[ COMMAND]: error: ...``, and the exit code of
:data:`~sgenet_ocr.errors.EXIT_CODES`. It never prints a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Callable, Sequence

from .errors import EXIT_CODES, SgenetOcrError, UnverifiedWeightsWarning, UsageError

PROG = "sgenet-ocr"
INTERRUPTED = 130  # the shell's code for Ctrl-C
CLOSED_PIPE = 141  # the shell's code for a write to a pipe nobody reads (SIGPIPE)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` (one line, exit code 2) instead of printing usage."""

    def error(self, message: str):
        raise UsageError(message)


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer of at least 1 (counts, workers, batch sizes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An ``argparse`` type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def exit_codes_epilog() -> str:
    """The exit-code table for ``--help``."""
    return "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())


def error_prefix(command: str | None = None) -> str:
    return f"{PROG} {command}: error: " if command else f"{PROG}: error: "


def print_error(message: str, command: str | None = None) -> None:
    """One line on stderr; a multi-line message is folded so it stays one line."""
    text = " ".join(str(message).split()) if "\n" in str(message) else str(message)
    print(error_prefix(command) + text, file=sys.stderr)


def run_cli(command: str | None, body: Callable[[Sequence[str] | None], int | None],
            argv: Sequence[str] | None = None) -> int:
    """Run ``body(argv)`` and return its exit code; every failure becomes one line on stderr.

    ``SgenetOcrError``: its message and ``exit_code``; ``--help`` and ``--version``: 0;
    Ctrl-C: 130; stdout closed by its reader: 141, quietly; any other exception:
    ``internal error: Type: message`` and 1.
    """
    show = warnings.showwarning

    def one_line_warning(message, category, *args, **kwargs):
        if issubclass(category, UnverifiedWeightsWarning):
            print(error_prefix(command).replace("error: ", "warning: ") + str(message), file=sys.stderr)
        else:
            show(message, category, *args, **kwargs)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line_warning
            code = body(argv)
        return code if isinstance(code, int) else 0  # benchmark bodies may return their results
    except SgenetOcrError as exc:
        print_error(str(exc), command)
        return exc.exit_code
    except SystemExit as exc:  # argparse's --help, or a body that calls sys.exit
        if exc.code in (0, None):
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print_error(str(exc.code), command)  # sys.exit("message"): Python would print it, so do we
        return UsageError.exit_code
    except KeyboardInterrupt:
        print_error("interrupted", command)
        return INTERRUPTED
    except BrokenPipeError:  # the reader of stdout left (`| head`): stop quietly, as Unix tools do
        try:  # or the interpreter's last flush of stdout fails again, with a message
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is no file (captured, embedded): nothing to flush
            pass
        return CLOSED_PIPE
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print_error(f"internal error: {type(exc).__name__}: {exc}", command)
        return 1
