"""Running the tiles: one after the other in this process, or on a Dask cluster."""

from __future__ import annotations

from collections.abc import Sequence

from solar.footprints import Footprint
from solar.surface import Surface, SurfaceInput, crop, read_window

from .climate import SiteClimate
from .options import BuildOptions, Execution, Progress
from .tile import TileResult, process_tile
from .tiles import Tile


def run_tiles(
    surface: SurfaceInput,
    tiles: Sequence[Tile],
    climate: SiteClimate,
    options: BuildOptions,
    execution: Execution,
    progress: Progress | None = None,
) -> list[TileResult]:
    """Process every tile, in this process or on a Dask cluster, in the order of ``tiles``.

    On a cluster, a surface in memory travels as each tile's crop; DSM and LAZ files are
    read by the worker itself, window by window.
    """
    if execution.in_process:
        results = []
        for done, tile in enumerate(tiles):
            results.append(
                process_tile(read_window(surface, tile.window), tile.footprints, climate, options)
            )
            if progress:
                progress("tiles", done + 1, len(tiles))
        return results

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = (
        None
        if execution.scheduler
        else LocalCluster(n_workers=execution.workers, threads_per_worker=1)
    )
    try:
        with Client(execution.scheduler or cluster) as client:
            shared = client.scatter([climate, options], broadcast=True)
            futures = [
                client.submit(
                    _process_window,
                    crop(surface, tile.window) if isinstance(surface, Surface) else surface,
                    tile.window,
                    tile.footprints,
                    shared[0],
                    shared[1],
                    key=f"tile-{tile.index}",
                )
                for tile in tiles
            ]
            order = {f.key: i for i, f in enumerate(futures)}
            ordered: list[TileResult | None] = [None] * len(futures)
            for done, future in enumerate(as_completed(futures)):
                ordered[order[future.key]] = future.result()
                if progress:
                    progress("tiles", done + 1, len(tiles))
            return [r for r in ordered if r is not None]
    finally:
        if cluster is not None:
            cluster.close()


def _process_window(
    source: SurfaceInput,
    window: tuple[float, float, float, float],
    footprints: Sequence[Footprint],
    climate: SiteClimate,
    options: BuildOptions,
) -> TileResult:
    """A tile's task on a Dask worker: the worker reads its own window of the files."""
    return process_tile(read_window(source, window), footprints, climate, options)
