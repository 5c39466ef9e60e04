"""The public API is exactly what DESIGN.md promises (httpx-style pin)."""

from __future__ import annotations

import subprocess
import sys

import veracity


def test_all_is_pinned() -> None:
    assert sorted(veracity.__all__) == sorted(
        [
            "CheckFailure",
            "Detector",
            "Evidence",
            "Verdict",
            "VeracityError",
            "__version__",
            "check",
            "load_model",
            "save_model",
        ]
    )


def test_every_exported_name_resolves_and_has_a_docstring() -> None:
    for name in veracity.__all__:
        obj = getattr(veracity, name)
        if name != "__version__":
            assert obj.__doc__, f"{name} has no docstring"


def test_import_is_light() -> None:
    """Nothing heavy happens at import: scikit-learn is not loaded by `import veracity`."""
    code = "import sys, veracity; print('sklearn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
