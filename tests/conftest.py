"""Shared fixtures. Real data lives outside the repo: $SGENET_DATA or ../shared/data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path | None:
    env = os.environ.get("SGENET_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real data folder; skips the test when it is absent."""
    root = data_root()
    if root is None:
        pytest.skip("real data not found: set SGENET_DATA or put it in ../shared/data")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
