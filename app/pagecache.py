"""The cadastre file in the operating system's page cache.

A resident's request reads a few pages of the cadastre, anywhere in its 1.7 GB for a
territory. Read from the page cache, an address's document costs 0.8 ms of the service's
CPU; read from a file out of the cache (after a restart of the machine, or once other
work pushed it out), each page waits for the disk. On the territory benchmark
(``scripts/bench_api.py --territory``), the same requests were then answered at 1,078
req/s instead of 2,275, and at 1,500 req/s offered their p99 was 1.2 s instead of 12 ms.
:func:`read_ahead` asks the kernel to read the whole file once, in the background, when
the service opens it: about a second for the territory on the development machine's
disk, and no memory of the service's own, since the page cache belongs to the kernel,
which gives it back when another process needs it.

:func:`resident_fraction` says how much of a file is in the page cache (``mincore``), and
:func:`evict` drops it from there as a restart of the machine does, for the tests and the
benchmarks to start cold and see it.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: Bytes asked for at a time: the kernel caps one request to its read-ahead window, and
#: a single request for the whole file reads only its first megabytes. [bytes]
READ_AHEAD_CHUNK = 8 << 20


def read_ahead(path: str | os.PathLike[str], chunk: int = READ_AHEAD_CHUNK) -> None:
    """Ask the kernel to bring the whole file into the page cache, without reading it here.

    ``posix_fadvise(POSIX_FADV_WILLNEED)`` chunk after chunk: the kernel queues the reads
    and the call returns before they end, copying nothing into this process. Nothing
    happens where the call does not exist (macOS, Windows). A file that cannot be read
    is left alone: opening it reports that.

    Parameters
    ----------
    path : path-like
    chunk : int
        Bytes per request. [bytes]
    """
    if not hasattr(os, "posix_fadvise"):
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        size = os.fstat(fd).st_size
        for offset in range(0, size, chunk):
            os.posix_fadvise(fd, offset, chunk, os.POSIX_FADV_WILLNEED)
    except OSError as exc:
        # only the speed of the first requests depends on it
        logger.warning("reading the cadastre ahead stopped: %s", exc.strerror)
    finally:
        os.close(fd)


def evict(path: str | os.PathLike[str]) -> None:
    """Write the file's pages to disk, then drop them from the page cache (Linux)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def resident_fraction(path: str | os.PathLike[str]) -> float:
    """The fraction of the file's pages in the page cache, from 0 to 1 (Linux).

    Maps the file without touching it and asks ``mincore`` which pages are resident.

    Raises
    ------
    OSError
        Where ``mincore`` is missing or fails.
    """
    size = Path(path).stat().st_size
    if size == 0:
        return 1.0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    pages = np.zeros(-(-size // mmap.PAGESIZE), dtype=np.uint8)
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        view = np.frombuffer(mapped, dtype=np.uint8)
        try:
            if libc.mincore(view.ctypes.data, size, pages.ctypes.data) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, os.strerror(errno), str(path))
        finally:
            # the map cannot close while an array still points into it
            del view
    return float(np.mean(pages & 1))
