"""StageOptions: resolved once from flags, preset and defaults, frozen, seen by every hook."""
from __future__ import annotations

import dataclasses
import math

import pytest

from sgenet_ocr.errors import UsageError
from sgenet_ocr.keep import DEFAULT_KEEP
from sgenet_ocr.options import (DEFAULT_ENGINE, DEFAULT_MIN_HEIGHT, StageOptions, parse_key_value,
                                resolve_options)


def test_defaults_come_from_one_place():
    options = resolve_options()
    assert (options.engine, options.restorer, options.min_height, options.device, options.keep, options.compare) == \
        (DEFAULT_ENGINE, None, DEFAULT_MIN_HEIGHT, "cpu", DEFAULT_KEEP, False)


def test_flags_win_over_the_preset_which_wins_over_defaults():
    preset = {"engine": "rapidocr", "keep": "restored", "min_height": 30,
              "engine_options": {"batch_size": 4, "threads": 1}}
    flags = {"engine": None, "keep": None, "min_height": 12.0, "engine_options": {"batch_size": 8}}
    options = resolve_options(flags, preset)
    assert options.engine == "rapidocr" and options.keep == "restored"  # not None: the preset's
    assert options.min_height == 12.0
    assert dict(options.engine_options) == {"batch_size": 8, "threads": 1}


def test_plugin_options_go_to_extra_and_read_as_attributes():
    options = resolve_options({"shout": True, "inputs": ["a.png"]})
    assert options.extra["shout"] is True and options.shout is True
    with pytest.raises(AttributeError, match="no option 'whisper'"):
        options.whisper  # noqa: B018


def test_options_are_frozen():
    options = resolve_options({"engine_options": {"a": 1}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.min_height = 3
    with pytest.raises(TypeError):
        options.engine_options["a"] = 2
    assert options.replace(restorer="bicubic").restorer == "bicubic" and options.restorer is None


@pytest.mark.parametrize("bad", [-1, float("nan"), "tall", None])
def test_bad_min_height_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="min_height must be"):
        StageOptions(min_height=bad)


def test_inf_restores_every_crop_and_bad_values_fail_early():
    assert StageOptions(min_height=math.inf).min_height == math.inf
    with pytest.raises(UsageError, match="keep policy"):
        resolve_options(keep="best")
    with pytest.raises(UsageError, match="unknown device"):
        resolve_options(device="tpu")


def test_key_value_flags_parse_json_values():
    assert parse_key_value(["batch_size=8", "allowlist=0123", "quantize=false", "name=x=y"], "--engine-option") == \
        {"batch_size": 8, "allowlist": "0123", "quantize": False, "name": "x=y"}  # 0123 is not JSON: text
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_key_value(["novalue"], "--engine-option")


def test_hooks_see_the_preset_values(tmp_path, capsys):
    """With a preset, hooks' options carry the preset's keep and engine (they used to be None)."""
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from sgenet_ocr.pipeline.__main__ import main

    fake = str(Path(__file__).parent / "plugins" / "fake_engine.py")
    seen = tmp_path / "seen.txt"
    plugin = tmp_path / "spy.py"
    plugin.write_text("from sgenet_ocr import hookimpl\n\n@hookimpl\ndef page_done(page, options):\n"
                      f"    open({str(seen)!r}, 'w').write(f'{{options.engine}} {{options.keep}} {{options.restorer}}')\n")
    preset = tmp_path / "p.yaml"
    preset.write_text("engine: sizer\nrestorer: bicubic\nkeep: restored\n")
    img = tmp_path / "page.png"
    Image.fromarray(np.full((40, 80, 3), 255, np.uint8)).save(img)
    assert main([str(img), "--pipeline", str(preset), "--plugin", fake, "--plugin", str(plugin), "-q"]) == 0
    assert seen.read_text() == "sizer restored bicubic"


@pytest.mark.parametrize("key,value", [
    ("min_height", "20"), ("min_height", True), ("engine", ["x"]), ("restorer", 3), ("keep", 1),
    ("device", 0), ("engine_options", [1]), ("restorer_options", "x"), ("engine_options", {1: 2}),
])
def test_preset_values_of_the_wrong_type_are_usage_errors_naming_the_key(tmp_path, key, value):
    import yaml

    from sgenet_ocr.presets import load_preset

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({key: value}))
    with pytest.raises(UsageError, match=f"p.yaml: {key} must be"):
        load_preset(str(path))
    with pytest.raises(UsageError, match=f"{key} must be"):
        resolve_options(preset={key: value})


@pytest.mark.parametrize("bad", [True, False, "20"])
def test_min_height_is_never_converted_from_text_or_a_boolean(bad):
    with pytest.raises(UsageError, match="min_height must be"):
        StageOptions(min_height=bad)
    with pytest.raises(UsageError, match="min_height must be"):
        resolve_options(min_height=bad)


def test_compare_must_be_a_boolean():
    with pytest.raises(UsageError, match="compare must be true or false"):
        resolve_options(compare="yes")


def test_a_factory_refuses_options_it_does_not_take_by_name():
    from sgenet_ocr.registry import Registry

    registry = Registry("restorer")
    registry.register("plain", lambda device="cpu", scale=2: (device, scale), owner="me")
    assert registry.create("plain", device="cpu", scale=3) == ("cpu", 3)
    with pytest.raises(UsageError, match=r"unknown restorer 'plain' option 'scael'; known: device, scale"):
        registry.create("plain", scael=3)


def test_an_option_value_the_factory_refuses_is_the_users_error_but_a_plugin_bug_stays_its_own():
    from sgenet_ocr.errors import PluginError
    from sgenet_ocr.registry import Registry

    def factory(size=None, **options):
        if options:
            raise ValueError("the plugin's own bug")
        return int(size)  # int("x"): ValueError quoting the value

    registry = Registry("engine")
    registry.register("counting", factory, owner="me")
    with pytest.raises(UsageError, match=r"engine 'counting' option size='x' was refused: ValueError: invalid literal"):
        registry.create("counting", size="x")
    with pytest.raises(PluginError, match="plugin 'me' failed .*the plugin's own bug"):
        registry.create("counting", size=3, other="y")
    with pytest.raises(UsageError, match=r"engine 'counting' option batch_size must be a whole number, got 'x'"):
        from sgenet_ocr.registry import check_options
        check_options(factory, {"batch_size": "x"}, "engine 'counting'", {"batch_size": 8})


def test_a_factory_returning_none_is_its_plugins_error():
    from sgenet_ocr.errors import PluginError
    from sgenet_ocr.registry import Registry

    registry = Registry("restorer")
    registry.register("nothing", lambda device="cpu": None, owner="lazy_plugin.py")
    with pytest.raises(PluginError, match=r"plugin 'lazy_plugin.py': the restorer 'nothing' factory returned None"):
        registry.create("nothing")


def test_threads_default_to_half_the_physical_cores_and_must_be_a_whole_number():
    from sgenet_ocr.hardware import physical_cores
    from sgenet_ocr.options import default_threads

    assert resolve_options().threads == default_threads() == max(1, physical_cores() // 2)
    assert resolve_options({"threads": 3}, {"threads": 2}).threads == 3
    assert resolve_options({}, {"threads": 2}).threads == 2
    for bad in (0, -1, "2", True, 1.5):
        with pytest.raises(UsageError, match="threads must be a whole number >= 1"):
            StageOptions(threads=bad)
    with pytest.raises(UsageError, match="preset: threads must be a whole number >= 1, got '2'"):
        resolve_options({}, {"threads": "2"})
