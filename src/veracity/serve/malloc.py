"""glibc's malloc arenas capped in the threaded server, so its memory stays flat.

glibc gives a thread that allocates while another holds an arena a new arena (up to
eight per core) and keeps freed memory in it. Checks run in a pool of threads, so under
concurrent requests the server's resident memory doubled without holding more data
(``bench/api.py --requests 1000 --concurrency 16`` on ISOT articles: 834 MB peak; with
two arenas 397 MB, at the same throughput). :func:`cap_malloc_arenas` is called when the
app starts; a ``MALLOC_ARENA_MAX`` set in the environment is left to glibc.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["ARENAS", "cap_malloc_arenas"]

#: Arenas the server's threads share.
ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas``; False where not applied.

    Not applied off Linux, without glibc's ``mallopt``, or when the environment sets
    ``MALLOC_ARENA_MAX`` (glibc has read it already).
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, int(arenas)) == 1)
