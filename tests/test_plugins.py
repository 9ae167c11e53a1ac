"""Plugin loading: built-ins, the entry-point group, --plugin paths and modules; errors name the culprit."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from sgenet_ocr.errors import PluginError, UsageError
from sgenet_ocr.plugin_manager import PluginHost

PLUGINS = Path(__file__).parent / "plugins"


def test_builtin_restorers_are_registered():
    host = PluginHost(entry_points=False)
    assert {"identity", "bicubic"} <= set(host.restorers.names())
    assert "sgenet_ocr.builtin" in host.plugin_names()


def test_engine_plugins_in_the_repo_come_from_the_entry_point_group():
    host = PluginHost()
    assert {"easyocr", "rapidocr", "paddleocr", "tesseract"} <= set(host.engines.names())
    assert host.engines.owner("easyocr") == "easyocr"  # the entry point's name, not a built-in


def test_third_party_entry_point_is_loaded(tmp_path, monkeypatch):
    # A minimal installed distribution: a module plus dist-info declaring the entry point.
    (tmp_path / "thirdparty_sizer.py").write_text((PLUGINS / "fake_engine.py").read_text())
    dist = tmp_path / "thirdparty_sizer-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-sizer\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[sgenet_ocr]\nsizer = thirdparty_sizer\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost()
    assert "sizer" in host.engines.names()
    assert host.engines.owner("sizer") == "sizer"


def test_plugin_from_path_and_module_and_twice_is_harmless(monkeypatch):
    path = str(PLUGINS / "fake_engine.py")
    host = PluginHost([path, path])
    assert "sizer" in host.engines.names()
    monkeypatch.syspath_prepend(str(PLUGINS))
    host = PluginHost(["fake_engine", "fake_engine"])
    assert "sizer" in host.engines.names()
    host.load("fake_engine")  # again after construction: still fine
    assert len([n for n in host.plugin_names() if n == "fake_engine"]) == 1


def test_unknown_plugin_name_is_a_usage_error():
    with pytest.raises(UsageError, match="not found"):
        PluginHost(["no_such_plugin_module_xyz"])
    with pytest.raises(UsageError, match="not found"):
        PluginHost(["missing_plugin.py"])


def test_plugin_failing_at_import_is_named():
    with pytest.raises(PluginError, match="broken_import.py.*cannot be imported"):
        PluginHost([str(PLUGINS / "broken_import.py")])


def test_unknown_hook_is_caught_by_check_pending():
    with pytest.raises(PluginError, match="restore_everything"):
        PluginHost([str(PLUGINS / "unknown_hook.py")])


def test_two_plugins_claiming_one_name_is_an_error_naming_both():
    with pytest.raises(PluginError, match="'bicubic' is registered by both 'sgenet_ocr.builtin' and"):
        PluginHost([str(PLUGINS / "rival_restorer.py")])


def test_unknown_names_list_the_known_ones():
    host = PluginHost([str(PLUGINS / "fake_engine.py")])
    with pytest.raises(UsageError, match=r"unknown restorer 'nope'; known restorers: .*bicubic.*identity"):
        host.restorers.create("nope")
    with pytest.raises(UsageError, match=r"unknown engine 'nope'; known engines: .*sizer"):
        host.engines.create("nope")


def test_a_factory_that_raises_is_attributed_to_its_plugin(tmp_path):
    plugin = tmp_path / "bad_factory.py"
    plugin.write_text(textwrap.dedent("""
        from sgenet_ocr import hookimpl

        def broken(**_):
            raise RuntimeError("no model here")

        @hookimpl
        def register_engines(register):
            register("broken", broken)
    """))
    host = PluginHost([str(plugin)])
    with pytest.raises(PluginError, match=r"plugin .*bad_factory.py.* engine 'broken'.*no model here"):
        host.engines.create("broken")
    assert "bad_factory" not in sys.modules  # loaded under a private name, not polluting imports
