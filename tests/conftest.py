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


@pytest.fixture(scope="session")
def word_folder(tmp_path_factory) -> Path:
    """A tiny crops folder of rendered words, for real training steps (tests/train_testkit.py)."""
    from train_testkit import make_word_folder

    return make_word_folder(tmp_path_factory.mktemp("words"))
