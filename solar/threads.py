"""Independent jobs on as many threads as numba's parallel kernels use.

The build's numba kernels that release the GIL (``nogil``), shapely's vectorised
operations, zlib and numpy's sweeps all run beside Python on another core: a tile's
buildings are segmented, and its faces' profiles deflated, on every core, as the
horizons are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numba

_T = TypeVar("_T")
_R = TypeVar("_R")


def threaded_map(work: Callable[[_T], _R], jobs: Sequence[_T]) -> list[_R]:
    """``[work(job) for job in jobs]`` on as many threads as numba's parallel kernels use.

    Each job must be independent of the others, so that the result is the same in any
    order. Under Dask, a worker's numba thread count bounds it, as it bounds the kernels.

    Examples
    --------
    >>> threaded_map(lambda n: n * n, [1, 2, 3])
    [1, 4, 9]
    """
    threads = min(numba.get_num_threads(), len(jobs))
    if threads <= 1:
        return [work(job) for job in jobs]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, jobs))
