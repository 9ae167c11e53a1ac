"""One test per hook, through the real pipeline with a test-only engine, and hook documentation."""
from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sgenet_ocr import Pipeline, hookspecs
from sgenet_ocr.errors import PluginError, UsageError
from sgenet_ocr.pipeline.__main__ import main

PLUGINS = Path(__file__).parent / "plugins"
FAKE = str(PLUGINS / "fake_engine.py")


def page_with_boxes() -> np.ndarray:
    """White page, one 10 px tall dark box (small text) and one 40 px tall (large text)."""
    img = np.full((120, 300, 3), 255, np.uint8)
    img[20:30, 20:80] = 0
    img[50:90, 150:280] = 0
    return img


def write_plugin(tmp_path, body: str) -> str:
    path = tmp_path / f"plugin_{abs(hash(body)) % 10**8}.py"
    path.write_text("from sgenet_ocr import hookimpl\n" + textwrap.dedent(body))
    return str(path)


def test_every_hook_is_documented():
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "sgenet_ocr_spec")]
    assert len(specs) >= 7
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert "Args:" in doc and "Returns:" in doc, spec.__name__
        assert "firstresult" in doc.lower() or "every plugin" in doc.lower(), spec.__name__
        for arg in inspect.signature(spec).parameters:
            assert arg in doc, (spec.__name__, arg)


def test_engine_preferred_restorer_is_the_default_and_the_users_choice_wins():
    from sgenet_ocr.stage import default_restorer

    with Pipeline(engine="sizer", plugins=[FAKE], engine_options={"preferred_restorer": "identity"}) as pipe:
        assert pipe.restorer_name == "identity"
    with Pipeline(engine="sizer", plugins=[FAKE], engine_options={"preferred_restorer": "identity"},
                  restorer="bicubic") as pipe:
        assert pipe.restorer_name == "bicubic"
    with Pipeline(engine="sizer", plugins=[FAKE]) as pipe:  # no preference: the package default
        assert pipe.restorer_name == default_restorer()
    with pytest.raises(UsageError, match="known restorers"):  # a typo fails before the engine loads
        Pipeline(engine="sizer", plugins=[FAKE], restorer="bicubik")


def test_register_engines_and_default_decision():
    page = Pipeline(engine="sizer", restorer="bicubic", plugins=[FAKE], min_height=24).run(page_with_boxes())
    texts = {w.text: w.restored for w in page.words}
    # The 10 px box is restored (bicubic x2 -> 20 px tall); the 40 px box is not.
    assert texts == {"120x20": True, "130x40": False}


def test_register_restorers(tmp_path):
    plugin = write_plugin(tmp_path, """
        import numpy as np
        from sgenet_ocr.restorers import Restorer

        class Triple(Restorer):
            name, scale = "triple", 3
            def restore(self, crops):
                return [np.repeat(np.repeat(c, 3, 0), 3, 1) for c in crops]

        @hookimpl
        def register_restorers(register):
            register("triple", lambda device="cpu", **_: Triple())
    """)
    page = Pipeline(engine="sizer", restorer="triple", plugins=[FAKE, plugin]).run(page_with_boxes())
    assert [w.text for w in page.words if w.restored] == ["180x30"]


def test_needs_restoration_first_result_wins(tmp_path):
    plugin = write_plugin(tmp_path, """
        @hookimpl
        def needs_restoration(crop, quad, text_height, options):
            return text_height > 30  # the opposite of the default rule
    """)
    page = Pipeline(engine="sizer", restorer="bicubic", plugins=[FAKE, plugin]).run(page_with_boxes())
    assert {w.text: w.restored for w in page.words} == {"60x10": False, "260x80": True}


def test_restore_crops_wrapper_adds_a_step(tmp_path):
    plugin = write_plugin(tmp_path, """
        @hookimpl(wrapper=True)
        def restore_crops(crops, restorer, options):
            restored = yield
            return [c[:, : c.shape[1] // 2] for c in restored]  # a post-processing step
    """)
    page = Pipeline(engine="sizer", restorer="bicubic", plugins=[FAKE, plugin]).run(page_with_boxes())
    assert [w.text for w in page.words if w.restored] == ["60x20"]


def test_add_options_reaches_hooks_through_the_cli(tmp_path, capsys):
    seen = tmp_path / "seen.txt"
    plugin = write_plugin(tmp_path, f"""
        @hookimpl
        def add_options(parser):
            parser.add_argument("--shout", action="store_true")

        @hookimpl
        def page_done(page, options):
            open({str(seen)!r}, "a").write(f"{{options.shout}} {{len(page.words)}}\\n")
    """)
    img = tmp_path / "page.png"
    from PIL import Image

    Image.fromarray(page_with_boxes()).save(img)
    code = main([str(img), "--engine", "sizer", "--restorer", "bicubic", "--plugin", FAKE,
                 "--plugin", plugin, "--shout", "-q"])
    assert code == 0
    assert seen.read_text() == "True 2\n"


def test_page_done_sees_every_page(tmp_path):
    plugin = write_plugin(tmp_path, """
        PAGES = []

        @hookimpl
        def page_done(page, options):
            PAGES.append((page.source, [w.text for w in page.words]))
    """)
    pipe = Pipeline(engine="sizer", restorer="identity", plugins=[FAKE, plugin])
    doc = pipe.run_many([page_with_boxes(), page_with_boxes()])
    module = [p for n, p in pipe.host.pm.list_name_plugin() if n.endswith(Path(plugin).name)][0]
    assert len(module.PAGES) == 2 == len(doc.pages)


def test_attach_stage(tmp_path, monkeypatch):
    import importlib

    import sgenet_ocr

    (tmp_path / "toy_engine.py").write_text(textwrap.dedent("""
        from sgenet_ocr import hookimpl

        class Toy:
            def read(self, crops):
                return [c.shape for c in crops]

        @hookimpl
        def attach_stage(target, stage):
            if not isinstance(target, Toy):
                return None
            original = target.read
            target.read = lambda crops: original(stage.apply(crops)[0])
            return lambda: delattr(target, "read")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    toy = importlib.import_module("toy_engine").Toy()
    crops = [np.zeros((10, 30, 3), np.uint8), np.zeros((40, 30, 3), np.uint8)]
    assert sgenet_ocr.hook(toy, restorer="bicubic", plugins=["toy_engine"]) is toy
    assert toy.read(crops) == [(20, 60, 3), (40, 30, 3)]
    sgenet_ocr.unhook(toy)
    assert toy.read(crops) == [(10, 30, 3), (40, 30, 3)]


def test_hooking_an_unknown_object_lists_what_is_supported():
    import sgenet_ocr
    from sgenet_ocr.errors import UsageError

    with pytest.raises(UsageError, match=r"no plugin knows how to attach the stage to a builtins.object; supported: .*easyocr.Reader"):
        sgenet_ocr.hook(object(), restorer="bicubic")


def test_plugin_raising_in_a_hook_is_named():
    pipe = Pipeline(engine="sizer", restorer="bicubic", plugins=[FAKE, str(PLUGINS / "raising_plugin.py")])
    with pytest.raises(PluginError, match=r"raising_plugin.py.*needs_restoration.*boom"):
        pipe.run(page_with_boxes())


def test_hook_validates_settings_like_the_pipeline():
    import sgenet_ocr
    from sgenet_ocr.errors import UsageError

    with pytest.raises(UsageError, match="min_height must be"):
        sgenet_ocr.hook(object(), restorer="bicubic", min_height=-1)
    with pytest.raises(UsageError, match="unknown restorer 'nope'"):
        sgenet_ocr.hook(object(), restorer="nope")
    with pytest.raises(UsageError, match="threads must be a whole number >= 1, got 0"):
        sgenet_ocr.attach(object(), restorer="bicubic", threads=0)


def test_attach_reuses_one_host_and_names_the_users_object(tmp_path, monkeypatch):
    import importlib

    import sgenet_ocr
    from sgenet_ocr.plugin_manager import shared_host

    (tmp_path / "toy_engine2.py").write_text(textwrap.dedent("""
        from sgenet_ocr import hookimpl

        class Toy:
            pass

        @hookimpl
        def attach_stage(target, stage):
            return (lambda: None) if isinstance(target, Toy) else None
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    toy = importlib.import_module("toy_engine2").Toy()
    sgenet_ocr.attach(toy, restorer="bicubic", plugins=["toy_engine2"])
    first = toy._sgenet_ocr_stage
    sgenet_ocr.attach(toy, restorer="identity", plugins=["toy_engine2"])  # replaces the stage
    assert toy._sgenet_ocr_stage.host is first.host is shared_host(("toy_engine2",))
    assert toy._sgenet_ocr_stage.options.engine == "toy_engine2.Toy"
    assert toy._sgenet_ocr_stage.options.restorer == "identity"
    sgenet_ocr.detach(toy)
    assert not hasattr(toy, "_sgenet_ocr_stage")


@pytest.fixture
def matched_weights(tmp_path, monkeypatch):
    """A second shipped-weights entry (a tiny model saved beside the test), as engine-matched
    weights would be: ``PRETRAINED["sgenet-matched"]``."""
    from sgenet_ocr import models
    from sgenet_ocr.models import PretrainedConfig, create_model, save_weights

    monkeypatch.delenv(models.WEIGHTS_ENV, raising=False)
    path = tmp_path / "sgenet_matched.safetensors"
    digest = save_weights(create_model("sgenet", channels=16, guidance_dim=16, num_blocks=1), path)
    monkeypatch.setitem(models.PRETRAINED, "sgenet-matched", PretrainedConfig("sgenet-matched", weights_file=str(path)))
    return digest


def test_engine_preferred_weights_are_the_default_and_the_users_choice_wins(matched_weights, monkeypatch):
    from sgenet_ocr.models import PRETRAINED, WEIGHTS_ENV

    prefers = {"preferred_restorer": "sgenet", "preferred_weights": "sgenet-matched"}
    with Pipeline(engine="sizer", plugins=[FAKE], engine_options=prefers) as pipe:
        assert pipe.stage.restorer.weights_sha256 == matched_weights
        assert pipe.stage.options.restorer_options["weights"] == "sgenet-matched"  # reports name them
    with Pipeline(engine="sizer", plugins=[FAKE], engine_options=prefers, restorer_options={"weights": "sgenet"}) as pipe:
        assert pipe.stage.restorer.weights_sha256 == PRETRAINED["sgenet"].sha256
    with Pipeline(engine="sizer", plugins=[FAKE], engine_options=prefers, restorer="bicubic") as pipe:
        assert "weights" not in pipe.stage.options.restorer_options  # bicubic takes no weights
    monkeypatch.setenv(WEIGHTS_ENV, "sgenet")
    with Pipeline(engine="sizer", plugins=[FAKE], engine_options=prefers) as pipe:
        assert pipe.stage.restorer.weights_sha256 == PRETRAINED["sgenet"].sha256


def test_attach_applies_the_defaults_of_the_engine_behind_the_object(tmp_path, monkeypatch, matched_weights):
    import importlib

    import sgenet_ocr

    (tmp_path / "toy_engine3.py").write_text(textwrap.dedent("""
        from sgenet_ocr import hookimpl
        from sgenet_ocr.engine import OcrEngine

        class Toy:
            pass

        class ToyEngine(OcrEngine):
            preferred_restorer = "sgenet"
            preferred_weights = "sgenet-matched"

        @hookimpl
        def attached_engine(target):
            return ToyEngine if isinstance(target, Toy) else None

        @hookimpl
        def attach_stage(target, stage):
            return (lambda: None) if isinstance(target, Toy) else None
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    toy = importlib.import_module("toy_engine3").Toy()
    sgenet_ocr.attach(toy, plugins=["toy_engine3"])
    assert toy._sgenet_ocr_stage.options.restorer == "sgenet"
    assert toy._sgenet_ocr_stage.restorer.weights_sha256 == matched_weights
    sgenet_ocr.attach(toy, restorer="bicubic", plugins=["toy_engine3"])  # the user's choice wins
    assert toy._sgenet_ocr_stage.options.restorer == "bicubic"
    sgenet_ocr.detach(toy)
