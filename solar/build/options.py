"""What a build is asked to do: the physics (:class:`BuildOptions`) and where it runs
(:class:`Execution`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solar import pv

Progress = Callable[[str, int, int], None]
"""A progress callback: (stage, done, total)."""


@dataclass(frozen=True)
class BuildOptions:
    """Parameters of a build. Every one of them changes the output.

    Attributes
    ----------
    laz_resolution : float
        Cell size when a LAZ point cloud is rasterised. [m]
    n_sectors : int
        Azimuth sectors of the horizon (72 = 5° steps).
    halo : float
        Width read around each tile so that outside casters count. [m]
    tile_size : float
        Side of a build tile. [m]
    min_face_area : float
        Smallest roof face kept by the segmentation: its true (sloped) area, like a
        face's ``area_m2``. [m²]
    setback : float
        Edge setback kept free of modules. [m]
    obstacle_tolerance : float
        Distance off the fitted plane beyond which a pixel is an obstacle. [m]
    max_tilt : float
        Faces steeper than this are unsuitable. [°]
    min_usable_area : float
        Faces with less usable (sloped) area are unsuitable. [m²]
    shade_threshold : float
        Roof pixels receiving less than this share of their face's unshaded irradiation
        are kept free of modules. [-]
    module : str or None
        Module name in ``solar/data/modules.toml``; None takes the default module.
    system_losses : float
        DC system losses (soiling, wiring, mismatch, ageing at start, availability). [-]
    albedo : float
        Ground reflectance. [-]
    monthly_raster : bool
        Also write each month's irradiation into the raster (12 more bands, about 12
        times its size); the annual band alone by default.
    """

    laz_resolution: float = 0.5
    n_sectors: int = 72
    halo: float = 150.0
    tile_size: float = 1000.0
    min_face_area: float = 2.0
    setback: float = 0.4
    obstacle_tolerance: float = 0.2
    max_tilt: float = 60.0
    min_usable_area: float = 4.0
    shade_threshold: float = 0.6
    module: str | None = None
    system_losses: float = pv.SYSTEM_LOSSES
    albedo: float = 0.2
    monthly_raster: bool = False


@dataclass(frozen=True)
class Execution:
    """Where the tiles run, and what is kept of them. None of it changes the output.

    Attributes
    ----------
    scheduler : str or None
        Address of a running ``dask.distributed`` scheduler (a multi-node cluster).
    workers : int
        With no scheduler: 1 runs the tiles in this process, more starts a ``LocalCluster``
        with that many single-threaded worker processes.
    keep_tiles : bool
        Keep every tile's result beside the output (``<out>.tiles/``) after a successful
        build, so that a later build into the same output computes again only the tiles
        whose inputs changed (see :mod:`solar.build.run`). Otherwise the results live in
        the work folder (``<out>.work/``) until the build succeeds.
    """

    scheduler: str | None = None
    workers: int = 1
    keep_tiles: bool = False

    @property
    def in_process(self) -> bool:
        """True when the tiles run one after the other in this process."""
        return self.scheduler is None and self.workers <= 1
