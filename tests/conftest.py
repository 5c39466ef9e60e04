"""Fixtures shared by every test."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clear_veracity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test without VERACITY_* variables from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("VERACITY_"):
            monkeypatch.delenv(name)
