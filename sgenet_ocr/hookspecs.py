"""The hooks a sgenet_ocr plugin can implement.

Plugins are modules (or objects) with functions marked ``@sgenet_ocr.hookimpl`` (defined here,
so a plugin needs nothing else from the package to declare its hooks). They are found among the
built-ins, the ``sgenet_ocr`` entry-point group and ``--plugin PATH|MODULE``.

Engines and restorers are not chosen by hook contests: plugins *register* named factories with
the host (``register_engines`` / ``register_restorers``) and the host picks one by name.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import pluggy

if TYPE_CHECKING:  # annotations only: importing the hooks stays cheap
    import argparse

    import numpy as np

    from .options import StageOptions
    from .restorers import Restorer
    from .results import Page
    from .stage import RestorationStage

PROJECT = "sgenet_ocr"
#: Marks a plugin's hook implementations, e.g. ``@hookimpl`` above ``def register_restorers(register)``.
hookimpl = pluggy.HookimplMarker(PROJECT)
hookspec = pluggy.HookspecMarker(PROJECT)
#: ``register(name, factory)``: what ``register_engines`` / ``register_restorers`` receive.
Register = Callable[[str, Callable[..., Any]], None]


@hookspec
def register_engines(register: Register) -> None:
    """Register OCR engines (detection + recognition) by name.

    Args:
        register: ``register(name, factory)``. ``factory(**engine_options)`` returns an
            :class:`sgenet_ocr.engine.OcrEngine`. Import heavy packages inside the factory, not
            at module import, and raise :class:`sgenet_ocr.errors.MissingDependencyError`
            naming the pip extra when they are absent.

    Returns:
        Nothing. Every plugin's implementation is called (not firstresult). Registering a
        name that another plugin already registered is an error naming both plugins.
    """


@hookspec
def register_restorers(register: Register) -> None:
    """Register crop restorers (super-resolution or enhancement) by name.

    Args:
        register: ``register(name, factory)``. ``factory(device="cpu", **options)`` returns a
            :class:`sgenet_ocr.restorers.Restorer`.

    Returns:
        Nothing. Every plugin's implementation is called (not firstresult).
    """


@hookspec(firstresult=True)
def needs_restoration(crop: np.ndarray, quad: np.ndarray | None, text_height: float,
                      options: StageOptions) -> bool | None:
    """Decide whether one detected text crop should be restored before recognition.

    Args:
        crop: the rectified crop, RGB ``uint8`` array of shape ``(h, w, 3)``.
        quad: its ``(4, 2)`` float quad in page pixels, clockwise from top-left.
        text_height: the text height in page pixels (mean of the quad's left and right edges).
        options: the run's :class:`~sgenet_ocr.options.StageOptions` (``options.min_height``
            etc.; plugin options in ``options.extra``, also readable as attributes).

    Returns:
        ``True`` or ``False``, or ``None`` to let the next implementation decide.
        firstresult: the first non-None answer wins. The built-in rule, which runs last,
        restores crops whose text is lower than ``options.min_height`` (default 24 px).
    """


@hookspec(firstresult=True)
def restore_crops(crops: Sequence[np.ndarray], restorer: Restorer, options: StageOptions,
                  prior_probs: Sequence[np.ndarray | None] | None) -> list[np.ndarray] | None:
    """Restore a batch of crops.

    Args:
        crops: list of RGB ``uint8`` arrays ``(h, w, 3)``, all of which need restoration.
        restorer: the :class:`sgenet_ocr.restorers.Restorer` chosen by name for this run.
        options: the run's options.
        prior_probs: ``None``, or per crop the engine's per-step probabilities over
            ``restorer.prior_charset`` (or ``None`` for that crop), to use instead of running
            the restorer's semantic prior (``OcrEngine.recognize_with_probs``).

    Returns:
        A list of restored RGB ``uint8`` arrays, one per input crop, in the same order.
        firstresult: the built-in implementation calls ``restorer.restore(crops)`` (with
        ``prior_probs=`` when there are some). Use a
        wrapper (``@hookimpl(wrapper=True)``) to add steps before or after it, e.g. denoising
        the input or sharpening the output.
    """


@hookspec
def add_options(parser: argparse.ArgumentParser) -> None:
    """Add command-line options to ``python -m sgenet_ocr.pipeline``.

    Args:
        parser: the ``argparse.ArgumentParser``; parsed values reach hooks in ``options.extra``
            (and as attributes, ``options.NAME``).

    Returns:
        Nothing. Every plugin's implementation is called.
    """


@hookspec
def page_done(page: Page, options: StageOptions) -> None:
    """Called once per processed page, e.g. to export results in another format.

    Args:
        page: the finished :class:`sgenet_ocr.results.Page`.
        options: the run's options.

    Returns:
        Nothing. Every plugin's implementation is called.
    """


@hookspec(firstresult=True)
def attached_engine(target: Any) -> type | None:
    """The engine class of this plugin that stands for a user's own engine object.

    :func:`sgenet_ocr.attach` applies that class's defaults (``preferred_restorer``,
    ``preferred_weights``) to the stage it attaches, as a pipeline does with the engine.

    Args:
        target: the user's object, as for :func:`attach_stage`.

    Returns:
        An :class:`~sgenet_ocr.engine.OcrEngine` subclass (not an instance: nothing loads), or
        ``None`` if this plugin does not know the object's type. firstresult: the first
        plugin that recognises it wins.
    """


@hookspec(firstresult=True)
def attach_stage(target: Any, stage: RestorationStage) -> Callable[[], None] | None:
    """Attach the restoration stage to a user's own engine object (:func:`sgenet_ocr.attach`).

    Args:
        target: the user's object, e.g. an ``easyocr.Reader``, ``paddleocr.PaddleOCR`` or
            ``RapidOCR`` instance.
        stage: the :class:`sgenet_ocr.stage.RestorationStage` to call on each batch of crops.

    Returns:
        A zero-argument callable that undoes the patch, or ``None`` if this plugin does not
        know the object's type. firstresult: the first plugin that recognises it wins.
    """
