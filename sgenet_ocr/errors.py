"""Errors the user can act on, each with the process exit code the CLI returns for it.

Every error here prints as one line (``sgenet-ocr: error: ...``, see :mod:`sgenet_ocr.cli`) and
never as a traceback.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator


class SgenetOcrError(Exception):
    """Base class: a problem the user can fix, reported in one line."""

    exit_code = 1


class UsageError(SgenetOcrError):
    """Bad command line or API arguments: unknown engine, restorer or preset names, bad values."""

    exit_code = 2


class InputImageError(SgenetOcrError):
    """An input file is missing, corrupt, truncated, empty, too large or not an image."""

    exit_code = 3


class MissingDependencyError(SgenetOcrError):
    """An optional package is not installed; the message names the pip extra to install."""

    exit_code = 4

    def __init__(self, package: str, extra: str, what: str | None = None):
        self.package, self.extra = package, extra
        what = what or f"this feature needs the '{package}' package"
        super().__init__(f"{what}: install it with pip install 'sgenet-ocr[{extra}]'")


class PluginError(SgenetOcrError):
    """A plugin failed to load or raised inside a hook; the message names the plugin."""

    exit_code = 5


class EngineOutputError(PluginError):
    """An engine returned a malformed result on one page (a box that is not 4 points, a reading
    whose confidence is not a number, too few readings). Batches record it for that page, name
    the plugin and go on with the others (exit code 5 at the end)."""

    def __init__(self, plugin: str, message: str):
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")


class ModelError(SgenetOcrError):
    """Model weights are missing, corrupt (sha256 mismatch) or do not fit the architecture."""

    exit_code = 6


class UnverifiedWeightsWarning(UserWarning):
    """Weights loaded without a sha256 to check them against (a user's file without its sidecar).
    The CLI prints it as one line, ``sgenet-ocr: warning: ...``."""


EXIT_CODES = {
    0: "success: every input was processed",
    1: "unexpected internal error (please report it)",
    2: "usage error: bad arguments, unknown engine/restorer/preset/plugin name, bad preset value or option",
    3: "one or more inputs could not be read (the others were still processed)",
    4: "an optional package is missing (the message names the pip extra)",
    5: "a plugin failed to load or raised, or an engine returned a malformed result for a page (the message names it)",
    6: "model weights missing or corrupt, or shipped weights without their sidecar",
    130: "interrupted (Ctrl-C)",
    141: "standard output closed by its reader (e.g. '| head'): stopped quietly",
}


@contextmanager
def blame_plugin(owner: "str | Callable[[BaseException], str]", where: str) -> Iterator[None]:
    """Re-raise any exception from plugin code as one-line :class:`PluginError` naming the plugin.

    The one way failures are traced to plugins (engine factories, engine calls, hook calls,
    registration). ``owner`` is the plugin's name, or a function that finds it from the
    exception (for hooks, where several plugins may have run). Errors the user can act on
    (:class:`SgenetOcrError`) pass through unchanged; the cause stays chained for debugging.
    """
    try:
        yield
    except SgenetOcrError:
        raise
    except Exception as exc:  # noqa: BLE001 - any plugin bug, reported with its plugin named
        name = owner(exc) if callable(owner) else owner
        raise PluginError(f"plugin {name!r} failed in {where}: {type(exc).__name__}: {exc}") from exc
