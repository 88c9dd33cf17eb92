"""The ``cadastre`` command: build a cadastre, serve it, or run the demo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from solar.build import DEFAULT_COMMUNES, BuildOptions, BuildSummary, build_cadastre
from solar.errors import InputError

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Solar cadastre of the Pôle Métropolitain de l'Artois.",
)
# soft_wrap: messages carry file paths, which a terminal-width wrap would cut
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

PathList = Annotated[list[Path] | None, typer.Option(show_default=False)]


def _fail(exc: InputError) -> NoReturn:
    err.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def _print_summary(summary: BuildSummary) -> None:
    out.print(
        f"[bold green]built[/] {summary.path}: {summary.buildings} buildings, "
        f"{summary.faces} roof faces, {summary.kwc:,.1f} kWc, "
        f"{summary.production_mwh_yr:,.1f} MWh/yr, in {summary.seconds:.1f} s "
        f"({summary.tiles} tile{'s' if summary.tiles > 1 else ''})"
    )
    if summary.filled_cells:
        out.print(f"  surface model: {summary.filled_cells} nodata cells filled")
    if summary.footprints_repaired:
        out.print(f"  footprints: {summary.footprints_repaired} invalid geometries repaired")
    if summary.footprints_dropped:
        out.print(f"  footprints dropped: {', '.join(summary.footprints_dropped[:10])}")
    if summary.footprints_outside:
        shown = ", ".join(summary.footprints_outside[:10])
        more = len(summary.footprints_outside) - 10
        out.print(
            f"  {len(summary.footprints_outside)} footprints outside the surface model, "
            f"skipped: {shown}{f' (+{more} more)' if more > 0 else ''}"
        )
    if summary.raster_path:
        out.print(f"  irradiation raster: {summary.raster_path}")


@cli.command()
def build(
    out_path: Annotated[Path, typer.Option("--out", help="The cadastre GeoPackage to write.")],
    buildings: Annotated[
        Path | None,
        typer.Option(
            help="Footprints: GeoJSON, GeoPackage, Shapefile or OGR-SQLite. "
            "Without it, traced from the LAZ building class."
        ),
    ] = None,
    dsm: PathList = None,
    laz: PathList = None,
    laz_crs: Annotated[
        str | None, typer.Option(help="CRS of LAZ files whose header has none, e.g. EPSG:28992.")
    ] = None,
    id_field: Annotated[str | None, typer.Option(help="Footprint field holding the id.")] = None,
    addresses: Annotated[
        Path | None, typer.Option(help="BAN address CSV (adresses-62.csv.gz).")
    ] = None,
    weather: Annotated[
        Path | None, typer.Option(help="PVGIS TMY (CSV/JSON) or EPW; default: Artois TMY.")
    ] = None,
    communes: Annotated[
        Path | None, typer.Option(help="Commune polygons with an 'insee' field.")
    ] = DEFAULT_COMMUNES,
    workers: Annotated[int, typer.Option(help="Dask LocalCluster workers; 1 runs here.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler.")
    ] = None,
    tile_size: Annotated[float, typer.Option(help="Build tile side [m].")] = 1000.0,
    halo: Annotated[float, typer.Option(help="Halo read around each tile [m].")] = 150.0,
    sectors: Annotated[int, typer.Option(help="Horizon azimuth sectors.")] = 72,
    setback: Annotated[float, typer.Option(help="Edge setback [m].")] = 0.4,
    system_losses: Annotated[float, typer.Option(help="DC system losses [0-1].")] = 0.14,
    module: Annotated[str | None, typer.Option(help="Module name in data/modules.toml.")] = None,
) -> None:
    """Build a cadastre GeoPackage from a surface model and building footprints.

    Give --dsm (one or more GeoTIFFs) or --laz (one or more classified point clouds).
    """
    options = BuildOptions(
        tile_size=tile_size,
        halo=halo,
        n_sectors=sectors,
        setback=setback,
        system_losses=system_losses,
        module=module,
    )
    try:
        with _progress_bar() as progress:
            summary = build_cadastre(
                progress=progress,
                buildings=buildings,
                out=out_path,
                dsm=dsm or [],
                laz=laz or [],
                laz_crs=laz_crs,
                id_field=id_field,
                addresses=addresses,
                weather=weather,
                communes=communes,
                options=options,
                workers=workers,
                scheduler=scheduler,
            )
    except InputError as exc:
        _fail(exc)
    _print_summary(summary)


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr, one line per build stage."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress


@cli.command()
def serve(
    cadastre: Annotated[Path, typer.Option(help="The cadastre GeoPackage to serve.")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
) -> None:
    """Serve a cadastre over HTTP (the REST API and the map page)."""
    from app.main import serve as run_server

    if not cadastre.is_file():
        _fail(
            InputError(
                "no cadastre at this path; build one with 'cadastre build'", source=str(cadastre)
            )
        )
    run_server(cadastre, host=host, port=port, workers=workers)


@cli.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    rebuild: Annotated[bool, typer.Option(help="Build the demo cadastre again.")] = False,
    build_only: Annotated[bool, typer.Option(help="Build, then exit without serving.")] = False,
) -> None:
    """Build the demo cadastre from the embedded real samples if missing, then serve it."""
    from solar.demo import DEMO_CADASTRE, build_demo

    if rebuild or not DEMO_CADASTRE.is_file():
        out.print("Building the demo cadastre from the real LiDAR samples in data/ …")
        try:
            with _progress_bar() as progress:
                summaries = build_demo(progress=progress)
        except InputError as exc:
            _fail(exc)
        for summary in summaries:
            _print_summary(summary)
        out.print(f"[bold green]demo cadastre[/] {DEMO_CADASTRE}")
    if build_only:
        return
    base = f"http://{host}:{port}"
    out.print(
        f"\n[bold]Solar cadastre demo[/] on {base}\n"
        f"  map page      {base}/\n"
        f"  API docs      {base}/docs\n"
        f"  try           {base}/api/v1/addresses?q=rue\n"
        f"  coverage      {base}/api/v1/coverage\n"
        '  (the samples carry no addresses: the demo ones are generated, marked "(démo)")\n'
    )
    from app.main import serve as run_server

    run_server(DEMO_CADASTRE, host=host, port=port, workers=1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cadastre")


if __name__ == "__main__":
    main()
