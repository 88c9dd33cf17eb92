"""The ``cadastre`` command: build a cadastre, serve it, or run the demo.

A mistake in the input (a missing file, a file that is not a cadastre, a folder that cannot
be written) stops the command with one line, ``error: <file>: <what is wrong>``, and exit
code 2, never with a traceback.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from urllib.parse import quote, urlencode

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from typer.core import TyperCommand

from solar.build import BuildInputs, BuildOptions, BuildSummary, Execution, build_cadastre
from solar.errors import InputError
from solar.resources import COMMUNES
from solar.text import fold

if TYPE_CHECKING:
    from app.communes.store import Store

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # plain help text: rich markup would swallow the units, "[m]" being a markup tag
    rich_markup_mode=None,
    help="Solar cadastre of the Pôle Métropolitain de l'Artois.",
)
# soft_wrap: messages carry file paths, which a terminal-width wrap would cut
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DEFAULTS = BuildOptions()
"""Where every build option of the command line takes its default."""

DATA_DIR_ENV = "CADASTRE_DATA_DIR"
"""Environment variable naming the folder the demo is built into and served from."""

SURFACE_SUFFIXES = {"--dsm": (".tif", ".tiff"), "--laz": (".laz", ".las")}
"""Options taking several files, and the file suffixes taken from a folder given to them."""

_GLOB_CHARACTERS = frozenset("*?[")


def spread_values(args: Sequence[str], options: Sequence[str]) -> list[str]:
    """Repeat ``options`` before each of the words that follow them, up to the next option.

    click gives an option one value per occurrence, so ``--dsm a.tif b.tif`` becomes
    ``--dsm a.tif --dsm b.tif``. A command using this takes no positional argument: a word
    that is not an option can only belong to the option before it. After ``--`` nothing
    changes.

    >>> spread_values(["--dsm", "a.tif", "b.tif", "--out", "c.gpkg"], ["--dsm"])
    ['--dsm', 'a.tif', '--dsm', 'b.tif', '--out', 'c.gpkg']
    >>> spread_values(["--laz=a.laz", "b.laz", "--laz", "c.laz"], ["--laz"])
    ['--laz=a.laz', '--laz', 'b.laz', '--laz', 'c.laz']
    """
    spread: list[str] = []
    current: str | None = None
    for k, word in enumerate(args):
        if word == "--":
            return [*spread, *args[k:]]
        name = word.split("=", 1)[0]
        if word.startswith("-"):
            current = name if name in options else None
            spread.append(word)
        elif current is not None and spread[-1] != current:
            spread += [current, word]
        else:
            spread.append(word)
    return spread


class _ManyValuesCommand(TyperCommand):
    """A command whose ``--dsm`` and ``--laz`` take every word up to the next option."""

    # ctx is click's Context, which typer vendors under a private module name
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values(args, list(SURFACE_SUFFIXES)))


def expand_paths(words: Sequence[Path], option: str) -> list[Path]:
    """The files named by the words given to ``option`` (``--dsm`` or ``--laz``).

    A file is taken as it is; a folder gives its files with the option's suffixes
    (``SURFACE_SUFFIXES``, any case), sorted; a word holding ``*``, ``?`` or ``[`` that
    names no file is a glob pattern, expanded here so that a quoted pattern works as well
    as one the shell expands. A file named twice is read once.

    Raises
    ------
    InputError
        When a word names nothing, or a pattern or a folder gives no file.
    """
    suffixes = SURFACE_SUFFIXES[option]
    files: list[Path] = []
    for word in words:
        if word.exists():
            matches = [word]
        elif _GLOB_CHARACTERS & set(str(word)):
            matches = [Path(p) for p in sorted(glob.glob(str(word), recursive=True))]
            if not matches:
                raise InputError(f"no file matches this {option} pattern", source=str(word))
        else:
            raise InputError("no such file", source=str(word))
        for match in matches:
            if not match.is_dir():
                files.append(match)
                continue
            inside = sorted(
                p for p in match.iterdir() if p.suffix.lower() in suffixes and p.is_file()
            )
            if not inside:
                raise InputError(
                    f"no {' or '.join(suffixes)} file in this folder", source=str(match)
                )
            files += inside
    return list(dict.fromkeys(files))


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


def _os_error(exc: OSError, path: Path) -> str:
    """One line for an OSError met while writing ``path``, naming the file at fault."""
    if exc.strerror:
        return f"{exc.filename or path}: {exc.strerror}"
    return f"{path}: {exc}"


def _check_writable(path: Path) -> None:
    """Stop now, not at the end of a long build, when ``path`` cannot be written."""
    if path.is_dir():
        _fail(f"{path}: is a folder; give the name of the file to write")
    if path.exists() and not os.access(path, os.W_OK):
        _fail(f"{path}: the file exists and cannot be written")
    folder = path.parent
    # the build creates the missing folders: what matters is the first one that exists
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        _fail(f"{folder}: cannot write in this folder ({exc.strerror or exc})")


def _print_summary(summary: BuildSummary) -> None:
    out.print(
        f"[bold green]built[/] {escape(str(summary.path))}: {summary.buildings} buildings, "
        f"{summary.faces} roof faces, {summary.kwc:,.1f} kWc, "
        f"{summary.production_mwh_yr:,.1f} MWh/yr, in {summary.seconds:.1f} s "
        f"({summary.tiles} tile{'s' if summary.tiles > 1 else ''})"
    )
    if summary.tiles_resumed:
        out.print(
            f"  resumed {summary.tiles_resumed} of {summary.tiles} tiles "
            "(done by an earlier run, found beside the output)"
        )
    if summary.filled_cells:
        out.print(f"  surface model: {summary.filled_cells} nodata cells filled")
    if summary.footprints_repaired:
        out.print(f"  footprints: {summary.footprints_repaired} invalid geometries repaired")
    if summary.footprints_shifted or summary.footprints_absent or summary.footprints_lidar_only:
        out.print(
            f"  footprints: {summary.footprints_shifted} shifted onto their roofs, "
            f"{summary.footprints_absent} over bare ground (no face), "
            f"{summary.footprints_lidar_only} buildings found with no footprint"
        )
    if summary.footprints_dropped:
        out.print(f"  footprints dropped: {escape(', '.join(summary.footprints_dropped[:10]))}")
    if summary.footprints_outside:
        shown = ", ".join(summary.footprints_outside[:10])
        more = len(summary.footprints_outside) - 10
        out.print(
            f"  {len(summary.footprints_outside)} footprints outside the surface model, "
            f"skipped: {escape(shown)}{f' (+{more} more)' if more > 0 else ''}"
        )
    if summary.raster_path:
        out.print(f"  irradiation raster: {escape(str(summary.raster_path))}")


DsmList = Annotated[
    list[Path] | None,
    typer.Option(
        metavar="PATH...",
        show_default=False,
        help="DSM GeoTIFFs: files, folders (every .tif/.tiff inside) or quoted glob "
        "patterns ('tiles/*.tif'); several may follow one --dsm.",
    ),
]
LazList = Annotated[
    list[Path] | None,
    typer.Option(
        metavar="PATH...",
        show_default=False,
        help="Classified point clouds (LAZ/LAS): files, folders (every .laz/.las inside) or "
        "quoted glob patterns ('tiles/*.laz'); several may follow one --laz. Replaces --dsm.",
    ),
]


@cli.command(cls=_ManyValuesCommand)
def build(
    out_path: Annotated[Path, typer.Option("--out", help="The cadastre GeoPackage to write.")],
    buildings: Annotated[
        Path | None,
        typer.Option(
            help="Footprints: GeoJSON, GeoPackage, Shapefile or OGR-SQLite. "
            "Without it, traced from the LAZ building class."
        ),
    ] = None,
    dsm: DsmList = None,
    laz: LazList = None,
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
        Path | None,
        typer.Option(
            help="Commune polygons with an 'insee' field.",
            show_default="the communes of the mining basin",
        ),
    ] = COMMUNES,
    parcels: Annotated[
        Path | None,
        typer.Option(
            help="Cadastral parcels (Etalab cadastre-XX-parcelles.json) to split a footprint "
            "shared by several houses; default: split by the address points."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Dask LocalCluster workers; 1 runs here.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler.")
    ] = None,
    keep_tiles: Annotated[
        bool,
        typer.Option(
            help="Keep each tile's result beside the output (OUT.tiles/) so that a later "
            "build recomputes only the tiles whose inputs changed."
        ),
    ] = False,
    tile_size: Annotated[float, typer.Option(help="Build tile side [m].")] = DEFAULTS.tile_size,
    halo: Annotated[float, typer.Option(help="Halo read around each tile [m].")] = DEFAULTS.halo,
    sectors: Annotated[int, typer.Option(help="Horizon azimuth sectors.")] = DEFAULTS.n_sectors,
    setback: Annotated[float, typer.Option(help="Edge setback [m].")] = DEFAULTS.setback,
    system_losses: Annotated[
        float, typer.Option(help="DC system losses [0-1].")
    ] = DEFAULTS.system_losses,
    module: Annotated[
        str | None, typer.Option(help="Module name in the module catalogue (modules.toml).")
    ] = DEFAULTS.module,
    monthly_raster: Annotated[
        bool,
        typer.Option(
            help="Also write each month's irradiation into the raster (12 more bands, "
            "about 12 times its size); the annual band alone by default."
        ),
    ] = DEFAULTS.monthly_raster,
) -> None:
    """Build a cadastre GeoPackage from a surface model and building footprints.

    Give --dsm (DSM GeoTIFFs) or --laz (classified point clouds).
    """
    options = BuildOptions(
        tile_size=tile_size,
        halo=halo,
        n_sectors=sectors,
        setback=setback,
        system_losses=system_losses,
        module=module,
        monthly_raster=monthly_raster,
    )
    try:
        dsm_files = expand_paths(dsm or [], "--dsm")
        laz_files = expand_paths(laz or [], "--laz")
    except InputError as exc:
        _fail(str(exc))
    _check_writable(out_path)
    try:
        with _progress_bar() as progress:
            summary = build_cadastre(
                BuildInputs(
                    dsm=dsm_files,
                    laz=laz_files,
                    laz_crs=laz_crs,
                    buildings=buildings,
                    id_field=id_field,
                    addresses=addresses,
                    weather=weather,
                    communes=communes,
                    parcels=parcels,
                ),
                out=out_path,
                options=options,
                execution=Execution(scheduler=scheduler, workers=workers, keep_tiles=keep_tiles),
                progress=progress,
            )
    except InputError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(_os_error(exc, out_path))
    _print_summary(summary)


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr, one line per build stage."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                # a resumed build starts at its resumed tiles: no instant jump in the ETA
                tasks[stage] = bar.add_task(stage, total=total, completed=done)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress


def _opens(path: Path) -> bool:
    """Whether ``path`` is a sound cadastre this version reads (a demo built by an older
    one is not, nor a damaged one)."""
    from solar.cadastre import Cadastre, verify_checksum

    try:
        Cadastre(path).close()
        verify_checksum(path)
    except InputError:
        return False
    return True


def _check_cadastre(path: Path, hint: str) -> None:
    """Stop with one line when ``path`` is not a cadastre the service can open, or when
    it differs from the checksum its build wrote beside it (a damaged file)."""
    from solar.cadastre import Cadastre, verify_checksum

    if not path.is_file():
        _fail(f"{path}: no cadastre at this path; {hint}")
    try:
        verify_checksum(path)
        Cadastre(path).close()
    except InputError as exc:
        _fail(str(exc))


@cli.command()
def serve(
    cadastre: Annotated[Path, typer.Option(help="The cadastre GeoPackage to serve.")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    db: Annotated[
        str | None,
        typer.Option(
            envvar="CADASTRE_DB",
            help="The communes' store: a SQLite file, or a postgresql+psycopg:// URL; "
            "default: CADASTRE.communes.sqlite beside the cadastre.",
        ),
    ] = None,
) -> None:
    """Serve a cadastre over HTTP (the REST API and the map page)."""
    from app.main import serve as run_server

    _check_cadastre(cadastre, "build one with 'cadastre build'")
    # opened (created, migrated) here: a wrong --db stops the command with one line
    from app.communes.store import default_store

    _open_store(db or str(default_store(cadastre))).close()
    if db is not None:
        os.environ["CADASTRE_DB"] = db
    run_server(cadastre, host=host, port=port, workers=workers)


@cli.command()
def tiles(
    cadastre: Annotated[Path, typer.Option(help="The cadastre GeoPackage.")],
) -> None:
    """Write the map's roof tiles (<name>.roofs.pmtiles) and QGIS style beside a cadastre."""
    from solar import suitability, vectortiles

    _check_cadastre(cadastre, "build one with 'cadastre build'")
    _check_writable(vectortiles.archive_path(cadastre))
    try:
        with _progress_bar() as progress:
            archive = vectortiles.write_archive(cadastre, progress=progress)
        style = suitability.write_qgis_style(cadastre)
    except OSError as exc:
        _fail(_os_error(exc, vectortiles.archive_path(cadastre)))
    out.print(
        f"[bold green]wrote[/] {escape(str(archive.path))}: {archive.tiles:,} tiles, "
        f"{archive.bytes / 1e6:,.1f} MB, largest tile {archive.largest_bytes / 1e3:,.0f} kB\n"
        f"  QGIS style: {escape(str(style))}"
    )


def user_data_dir() -> Path:
    """The per-user folder of the demo: ``$XDG_DATA_HOME/artois-cadastre``.

    ``XDG_DATA_HOME`` defaults to ``~/.local/share``, as the XDG Base Directory
    specification says.
    """
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "artois-cadastre"


@cli.command()
def demo(
    data_dir: Annotated[
        Path,
        typer.Option(
            envvar=DATA_DIR_ENV,
            default_factory=user_data_dir,
            show_default="$XDG_DATA_HOME/artois-cadastre, else ~/.local/share/artois-cadastre",
            help="Folder the demo cadastre is built into and served from.",
        ),
    ],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    rebuild: Annotated[bool, typer.Option(help="Build the demo cadastre again.")] = False,
    build_only: Annotated[bool, typer.Option(help="Build, then exit without serving.")] = False,
) -> None:
    """Build the demo cadastre from the embedded real samples if missing, then serve it."""
    from solar import demo as demo_territory

    path = data_dir / demo_territory.CADASTRE_FILE
    if rebuild or not _opens(path):
        _check_writable(path)
        out.print(f"Building the demo cadastre from the real LiDAR samples into {data_dir} …")
        try:
            with _progress_bar() as progress:
                built = demo_territory.build_demo(data_dir, progress=progress)
        except InputError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(_os_error(exc, path))
        out.print(
            f"[bold green]built[/] {escape(str(built.path))}: {built.buildings} buildings, "
            f"{built.faces} roof faces, {built.kwc:,.1f} kWc, "
            f"{built.production_mwh_yr:,.1f} MWh/yr, in {built.seconds:.1f} s "
            f"({len(built.samples)} samples)"
        )
    if build_only:
        return
    try:
        example = demo_territory.example_address(path)
    except InputError as exc:
        _fail(f"{exc}; build it again with 'cadastre demo --rebuild'")
    base = f"http://{host}:{port}"
    # what a resident would type: the label's words, without accents or capitals
    query = urlencode({"q": " ".join(re.findall(r"\w+", fold(example.label)))})
    out.print(
        f"\n[bold]Solar cadastre demo[/] on {base}\n"
        f"  map page      {base}/\n"
        f"  API docs      {base}/docs\n"
        f"  search        {base}/api/v1/addresses?{query}\n"
        f"  its roof      {base}/api/v1/addresses/{quote(example.address_id, safe='')}/solar\n"
        f"  coverage      {base}/api/v1/coverage\n"
        '  (the samples carry no addresses: the demo ones are generated, marked "(démo)")\n'
    )
    from app.main import serve as run_server

    run_server(path, host=host, port=port, workers=1)


keys = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="API keys of the communes and of the PMA (the store keeps their hash only).",
)
cli.add_typer(keys, name="keys")

DbOption = Annotated[
    str,
    typer.Option(
        envvar="CADASTRE_DB",
        help="The communes' store: a SQLite file, or a postgresql+psycopg:// URL.",
    ),
]


def _open_store(db: str) -> Store:
    """The store at ``db``, created when missing; one error line when it cannot be."""
    from app.communes.store import Store

    try:
        return Store(db)
    except InputError as exc:
        _fail(str(exc))


@keys.command("create")
def create_key(
    db: DbOption,
    label: Annotated[str, typer.Option(help="Who holds the key, e.g. 'Mairie de Lens'.")],
    commune: Annotated[
        list[str] | None, typer.Option(help="INSEE code of a commune it reaches; repeat.")
    ] = None,
    territory: Annotated[
        bool, typer.Option(help="A key of the whole territory (the PMA's energy team).")
    ] = False,
) -> None:
    """Create a key; it is printed once, on the last line, and kept nowhere."""
    if territory == bool(commune):
        _fail("give --commune INSEE (one or more), or --territory")
    store = _open_store(db)
    try:
        key_id, key = store.create_key(label, None if territory else commune)
    except InputError as exc:
        _fail(str(exc))
    finally:
        store.close()
    scope = "the whole territory" if territory else ", ".join(sorted(set(commune or ())))
    out.print(f"key {key_id} ({escape(label)}) for {scope}; shown once, keep it safe:")
    # plain print: a key must never be wrapped or styled
    print(key)


@keys.command("list")
def list_keys(db: DbOption) -> None:
    """Every key: id, label, communes, dates (never the key itself)."""
    store = _open_store(db)
    try:
        listed = store.list_keys()
    finally:
        store.close()
    for info in listed:
        scope = "territory" if info.communes is None else ",".join(sorted(info.communes))
        state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "valid"
        out.print(
            f"{info.key_id}\t{escape(info.label)}\t{scope}\t"
            f"created {info.created_at:%Y-%m-%d %H:%M}\t{state}",
            highlight=False,
        )


@keys.command("revoke")
def revoke_key(
    db: DbOption,
    key: Annotated[str, typer.Argument(help="The key's id or label.", metavar="ID")],
) -> None:
    """Revoke a key: it is refused from the next request on."""
    from solar.errors import NotFound

    store = _open_store(db)
    try:
        info = store.revoke_key(key)
    except NotFound as exc:
        _fail(str(exc))
    finally:
        store.close()
    out.print(f"key {info.key_id} ({escape(info.label)}) revoked", highlight=False)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cadastre")


if __name__ == "__main__":
    main()
