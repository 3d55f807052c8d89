"""Shared fixtures: the real registry (read-only) and tmp copies of data/raw files to break on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from analysis import catalogue

# Tests write only to temporary folders: no example database in the working tree.
settings.register_profile("project", database=None)
settings.load_profile("project")


@pytest.fixture(scope="session")
def cat() -> pd.DataFrame:
    """The validated registry from data/raw (shared: never modify it in a test)."""
    return catalogue.load()


@pytest.fixture
def tmp_copy(tmp_path) -> Callable[[Path, Callable[[pd.DataFrame], pd.DataFrame]], Path]:
    """``tmp_copy(src, change)``: read a raw CSV as text, apply ``change``, write it into tmp_path."""

    def make(src: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
        frame = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8")
        target = tmp_path / src.name
        change(frame.copy()).to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
        return target

    return make
