"""parse_device: one parser and one set of messages for every component that takes a device."""
from __future__ import annotations

import pytest

from sgenet_ocr.devices import Device, parse_device
from sgenet_ocr.errors import UsageError


@pytest.mark.parametrize("name, parsed", [("cpu", Device("cpu")), ("CPU", Device("cpu")), (None, Device("cpu")),
                                          ("cuda", Device("cuda")), ("cuda:1", Device("cuda", 1))])
def test_names_parse(name, parsed):
    assert parse_device(name, check=False) == parsed
    assert str(parsed) == ("cpu" if name in (None, "CPU") else name)


@pytest.mark.parametrize("name", ["gpu", "cuda:", "cuda:x", "tpu:0", ""])
def test_unknown_names_are_usage_errors(name):
    with pytest.raises(UsageError, match="unknown device .*use cpu, cuda or cuda:N"):
        parse_device(name)


def test_cpu_only_components_refuse_cuda():
    with pytest.raises(UsageError, match="tesseract engine runs on the CPU only"):
        parse_device("cuda", check=False, cpu_only="the tesseract engine")
    assert parse_device("cpu", cpu_only="the tesseract engine").kind == "cpu"


def test_missing_gpu_is_one_message_everywhere(monkeypatch):
    import sgenet_ocr.devices as devices

    monkeypatch.setattr(devices, "cuda_device_count", lambda: 0)
    with pytest.raises(UsageError, match="no CUDA GPU is available; use --device cpu"):
        parse_device("cuda:0")


def test_a_gpu_number_beyond_the_machines_is_a_usage_error(monkeypatch):
    """Not torch's raw "invalid device ordinal" when the model moves there, later."""
    import sgenet_ocr.devices as devices

    monkeypatch.setattr(devices, "cuda_device_count", lambda: 1)
    assert str(parse_device("cuda:0")) == "cuda:0" and parse_device("cuda").is_cuda
    with pytest.raises(UsageError, match=r"'cuda:1' requested but torch sees 1 CUDA GPU\(s\): use cuda:0$"):
        parse_device("cuda:1")
    monkeypatch.setattr(devices, "cuda_device_count", lambda: 2)
    with pytest.raises(UsageError, match="use cuda:0 to cuda:1"):
        parse_device("cuda:2")


def test_every_component_parses_devices_here():
    """No module but sgenet_ocr/devices.py spells out the device names' grammar."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [p for d in ("sgenet_ocr", "plugins") for p in (root / d).rglob("*.py") if p.name != "devices.py"]
    offenders = [str(p.relative_to(root)) for p in sources
                 if re.search(r"startswith\(\"cuda|== \"cuda\"|unknown device", p.read_text())]
    assert offenders == []
