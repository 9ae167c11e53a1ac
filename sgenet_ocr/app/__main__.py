"""``python -m sgenet_ocr.app``: serve the comparison page on localhost (offline)."""
from __future__ import annotations

import os
import sys

from ..cli import ArgumentParser, run_cli
from ..errors import MissingDependencyError, UsageError
from ..options import check_count, check_min_height
from . import DEFAULT_MIN_HEIGHT, keep_choices

PROG = "python -m sgenet_ocr.app"


def offline_environment() -> None:
    """No analytics, version checks or model-hub calls: the page works with no network."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--engine", default="easyocr", help="engine selected when the page opens (default easyocr)")
    p.add_argument("--restorer", help="restorer selected when the page opens (default: the engine's preferred one)")
    p.add_argument("--min-height", type=float, default=DEFAULT_MIN_HEIGHT,
                   help=f"min height selected when the page opens (default {DEFAULT_MIN_HEIGHT})")
    p.add_argument("--keep", default="confident", choices=keep_choices(),
                   help="keep policy selected when the page opens (default confident)")
    p.add_argument("--cache", type=int, default=4,
                   help="pipelines (engine, restorer, min height, keep) kept loaded at once (default 4)")
    return p


def main(argv: list[str] | None = None) -> int:
    return run_cli("app", _main, argv)


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be 1-65535, got {args.port}")
    check_count(args.cache, "--cache")
    check_min_height(args.min_height)
    offline_environment()
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise MissingDependencyError("gradio", "app", "the web page needs the 'gradio' package") from None
    from . import PipelineCache
    from .ui import CSS, build

    cache = PipelineCache(size=args.cache)
    page = build(cache, engine=args.engine, restorer=args.restorer, min_height=args.min_height, keep=args.keep)
    try:
        try:
            page.launch(server_name=args.host, server_port=args.port, ssr_mode=False, show_error=False,
                        quiet=True, css=CSS, max_file_size="100mb", footer_links=[], prevent_thread_lock=True)
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc}") from None
        print(f"sgenet-ocr app: http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
        page.block_thread()
    finally:
        cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
