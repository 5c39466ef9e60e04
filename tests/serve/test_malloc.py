"""The server caps glibc's malloc arenas, so concurrent checks do not double its memory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve import app as app_module
from veracity.serve.malloc import ARENAS
from veracity.settings import Settings

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc arenas are Linux only"
)

# 16 threads allocate at once (ctypes lets go of the GIL around malloc), then glibc's
# malloc_info says how many arenas (<heap nr=...>) the process has.
PROBE = textwrap.dedent(
    """
    import ctypes, os, sys, tempfile, threading
    from veracity.serve.malloc import cap_malloc_arenas
    applied = cap_malloc_arenas() if sys.argv[1] == "cap" else False
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    def work():
        for _ in range(20000):
            libc.free(libc.malloc(1000))
    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    path = os.path.join(tempfile.mkdtemp(), "info.xml")
    fp = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(applied, open(path).read().count("<heap nr="))
    """
)


def _arenas(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    run_env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    run_env.update(env or {})
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=run_env,
    ).stdout.split()
    return out[0], int(out[1])


def test_capped_threads_share_two_arenas_and_uncapped_ones_do_not() -> None:
    applied, capped = _arenas("cap")
    assert applied == "True"
    assert capped <= ARENAS
    _, uncapped = _arenas("no")
    assert uncapped > ARENAS  # the probe does make glibc open more arenas


def test_an_arena_limit_from_the_environment_is_left_alone() -> None:
    applied, arenas = _arenas("cap", {"MALLOC_ARENA_MAX": "3"})
    assert applied == "False"
    assert arenas == 3


def test_the_app_caps_the_arenas_when_it_starts(
    settings: Settings, detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(app_module, "cap_malloc_arenas", lambda: calls.append(1) or True)
    app = app_module.create_app(settings, detector)
    assert calls == []
    with TestClient(app) as client:
        assert calls == [1]
        assert client.get("/healthz").status_code == 200
