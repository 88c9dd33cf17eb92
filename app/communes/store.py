"""The communes' store: portfolios, API keys, the journal of writes and the report jobs.

It lives apart from the cadastre, which stays read-only: SQLite by default (one file, WAL
mode, for one server) or PostgreSQL through a URL (for several servers), with SQLAlchemy
Core on both.

Migrations are versioned in the table ``store_migrations``. A new store is created with
the tables as defined here and stamped :data:`SCHEMA_VERSION`; a store of an earlier
version goes through the steps of :data:`MIGRATIONS` that it lacks, in one transaction.
Opening is serialised (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so
that several workers starting together migrate once.

Every write to a portfolio or to the keys adds a row to the journal: the key's id and
label, the time, and the entry before and after, in JSON. Keys are kept as their SHA-256
(:mod:`app.communes.keys`) and appear in no journal row and no log.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

from app.communes.keys import INSEE_PATTERN, KeyInfo, KeyScope, hash_key, new_key, same_hash
from solar.communes.portfolio import PortfolioEntry
from solar.errors import InputError, NotFound

metadata = sa.MetaData()

migrations_table = sa.Table(
    "store_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

keys_table = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("label", sa.String(200), nullable=False, unique=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("territory", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

key_communes_table = sa.Table(
    "api_key_communes",
    metadata,
    sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id"), primary_key=True),
    sa.Column("commune_insee", sa.String(5), primary_key=True),
)

portfolio_table = sa.Table(
    "portfolio",
    metadata,
    sa.Column("commune_insee", sa.String(5), primary_key=True),
    sa.Column("building_id", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(20)),
    sa.Column("usage", sa.String(20)),
    sa.Column("annual_consumption_kwh", sa.Float),
    sa.Column("note", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

journal_table = sa.Table(
    "journal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.Integer),
    sa.Column("key_label", sa.String(200)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("commune_insee", sa.String(5)),
    sa.Column("building_id", sa.String(200)),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
)

jobs_table = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("commune_insee", sa.String(5)),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("key_id", sa.Integer),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("media_type", sa.String(100)),
    sa.Column("filename", sa.String(200)),
    sa.Column("error", sa.Text),
    sa.Column("result", sa.LargeBinary),
)

sa.Index("ix_journal_commune", journal_table.c.commune_insee, journal_table.c.at)
sa.Index("ix_jobs_state", jobs_table.c.state, jobs_table.c.created_at)

#: Steps that bring a store of an earlier version to the tables above: ``MIGRATIONS[k]``
#: turns version k + 1 into version k + 2. Each takes the connection of the migrating
#: transaction. A change to a table above comes with its step here.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = ()
#: The version of the tables above.
SCHEMA_VERSION = 1 + len(MIGRATIONS)

JOB_STATES = ("queued", "running", "done", "failed")

#: Ids per ``IN (...)`` list: well under SQLite's limit of bound parameters.
_IN_CHUNK = 500
_ENTRY_KEYS = ("commune_insee", "building_id")
_ENTRY_FIELDS = tuple(f.name for f in fields(PortfolioEntry))
#: The portfolio columns an entry's write sets.
_ENTRY_VALUES = tuple(c.name for c in portfolio_table.c if c.name not in _ENTRY_KEYS)

#: Arbitrary number naming the advisory lock that serialises opening on PostgreSQL.
_PG_MIGRATION_LOCK = 7_284_117
#: Arbitrary number naming the space of the advisory locks of each commune's portfolio.
_PG_PORTFOLIO_LOCKS = 7_284_118


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as an aware UTC datetime: SQLite returns it naive (it was UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def default_store(cadastre_path: str | Path) -> Path:
    """The store of a cadastre when none is named: a SQLite file beside it, named after it.

    >>> default_store("/srv/cadastre/artois.gpkg")
    PosixPath('/srv/cadastre/artois.communes.sqlite')
    """
    path = Path(cadastre_path)
    return path.with_name(f"{path.stem}.communes.sqlite")


def store_url(db: str | Path) -> str:
    """A SQLAlchemy URL for ``db``: a URL as it is, or a path to a SQLite file.

    >>> store_url("postgresql+psycopg://u@h/cadastre")
    'postgresql+psycopg://u@h/cadastre'
    >>> store_url("/srv/communes.sqlite")
    'sqlite:////srv/communes.sqlite'
    """
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def check_url(db: str | Path) -> str:
    """``db`` as a URL of a backend the store runs on; InputError otherwise.

    >>> check_url("mysql://h/db")
    Traceback (most recent call last):
    ...
    solar.errors.InputError: db: unsupported database 'mysql': use a SQLite path or a \
postgresql+psycopg:// URL
    """
    url = store_url(db)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError("not a path nor a database URL", source="db") from None
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise InputError(
            f"unsupported database {parsed.drivername!r}: use a SQLite path or a "
            "postgresql+psycopg:// URL",
            source="db",
        )
    return url


@dataclass(frozen=True)
class Job:
    """A report job, persisted so that it survives a restart of the service.

    Attributes
    ----------
    id : str
        A random UUID, given to the client.
    kind : str
        What it renders (a kind registered with :func:`app.communes.jobs.register_job_kind`).
    commune_insee : str or None
        The commune it covers; None for a territory-wide job.
    params : dict
        The kind's parameters, JSON values.
    state : str
        ``queued``, ``running``, ``done`` or ``failed``.
    progress : float
        Share done, from 0 to 1.
    created_at, finished_at : datetime.datetime
        UTC; ``finished_at`` is None until done or failed.
    media_type, filename : str or None
        Of the result, once done.
    error : str or None
        Why it failed, for the client.
    key_id : int or None
        The key that asked for it.
    """

    id: str
    kind: str
    commune_insee: str | None
    params: dict[str, Any]
    state: str
    progress: float
    created_at: dt.datetime
    finished_at: dt.datetime | None
    media_type: str | None
    filename: str | None
    error: str | None
    key_id: int | None = None


def _job(row: sa.Row[Any]) -> Job:
    created_at = _utc(row.created_at)
    assert created_at is not None
    return Job(
        id=row.id,
        kind=row.kind,
        commune_insee=row.commune_insee,
        params=json.loads(row.params),
        state=row.state,
        progress=row.progress,
        created_at=created_at,
        finished_at=_utc(row.finished_at),
        media_type=row.media_type,
        filename=row.filename,
        error=row.error,
        key_id=row.key_id,
    )


_JOB_COLUMNS = [c for c in jobs_table.c if c.name != "result"]


def _entry(row: sa.Row[Any]) -> PortfolioEntry:
    updated_at = _utc(row.updated_at)
    assert updated_at is not None
    return PortfolioEntry(
        commune_insee=row.commune_insee,
        building_id=row.building_id,
        status=row.status,
        reason=row.reason,
        usage=row.usage,
        annual_consumption_kwh=row.annual_consumption_kwh,
        note=row.note,
        updated_at=updated_at,
        updated_by=row.updated_by,
    )


def _values(entry: PortfolioEntry) -> dict[str, Any]:
    """An entry's fields (``dataclasses.asdict`` deep-copies each: ten times slower)."""
    return {name: getattr(entry, name) for name in _ENTRY_FIELDS}


def _entry_json(entry: PortfolioEntry | None) -> str | None:
    if entry is None:
        return None
    values = _values(entry)
    values["updated_at"] = entry.updated_at.isoformat()
    return json.dumps(values, ensure_ascii=False)


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling would start transactions late and commit before
        # DDL; the "begin" hook below emits the right BEGIN instead (SQLAlchemy's recipe)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL with synchronous=NORMAL is durable across a crash of the process
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # a writer takes the write lock at once: two writers then queue on busy_timeout
        # rather than one failing to upgrade a read lock
        immediate = connection.get_execution_options().get("store_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


KEY_RECHECK_SECONDS = 5.0
"""How long a checked key is trusted without reading the store again: a key revoked by
another process (``cadastre keys revoke``, another server) stops working within this time."""

_TRUSTED_KEYS_MAX = 1024
_OPEN_ATTEMPTS = 20
_clock = time.monotonic


class Store:
    """The communes' store, safe across threads (a connection per operation, pooled).

    Parameters
    ----------
    db : str or path-like
        A SQLite file path (created when missing), or a SQLAlchemy URL:
        ``sqlite:///path`` or ``postgresql+psycopg://user:password@host/database``.

    Raises
    ------
    solar.errors.InputError
        When ``db`` cannot be opened, or was written by a newer version.
    """

    def __init__(self, db: str | Path):
        self.url = check_url(db)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self._engine = _sqlite_engine(self.url)
        else:
            self._engine = sa.create_engine(self.url, pool_pre_ping=True)
        try:
            self._migrate_when_free()
        except OperationalError as exc:
            self._engine.dispose()
            reason = str(exc.orig or exc).splitlines()[0]
            raise InputError(
                f"cannot open the store ({reason}): give a writable place with --db or CADASTRE_DB",
                source=make_url(self.url).render_as_string(hide_password=True),
            ) from None
        except Exception:
            self._engine.dispose()
            raise
        # key digest -> (monotonic time until which it is trusted, its scope)
        self._trusted: dict[str, tuple[float, KeyScope]] = {}
        self._trusted_lock = threading.Lock()

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    # --- transactions -----------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as connection:
            connection.execution_options(store_write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as connection, connection.begin():
            yield connection

    def _migrate_when_free(self) -> None:
        """:meth:`_migrate`, tried again while another process opens the same new SQLite
        file: switching a new file to WAL needs it alone, and SQLite answers "database is
        locked" at once rather than waiting, so workers started together would fail."""
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                self._migrate()
                return
            except OperationalError as exc:
                locked = "database is locked" in str(exc.orig or exc)
                if not (self.is_sqlite and locked) or attempt == _OPEN_ATTEMPTS - 1:
                    raise
                self._engine.dispose()
                time.sleep(0.05 * (attempt + 1))

    def _migrate(self) -> None:
        with self._write() as connection:
            if not self.is_sqlite:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:n)"), {"n": _PG_MIGRATION_LOCK}
                )
            migrations_table.create(connection, checkfirst=True)
            version = connection.execute(
                sa.select(sa.func.max(migrations_table.c.version))
            ).scalar()
            if version is None:
                metadata.create_all(connection)
                connection.execute(
                    migrations_table.insert().values(version=SCHEMA_VERSION, applied_at=_now())
                )
                return
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"the store is at version {version}, newer than this service's "
                    f"{SCHEMA_VERSION}: upgrade the service",
                    source="db",
                )
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step - 1](connection)
                connection.execute(
                    migrations_table.insert().values(version=step + 1, applied_at=_now())
                )

    def schema_version(self) -> int:
        """The version the store is at."""
        with self._read() as connection:
            version = connection.execute(sa.select(sa.func.max(migrations_table.c.version)))
            return int(version.scalar_one())

    # --- portfolio --------------------------------------------------------------------

    def portfolio(self, insee: str) -> list[PortfolioEntry]:
        """The commune's portfolio, by building id."""
        query = (
            sa.select(portfolio_table)
            .where(portfolio_table.c.commune_insee == insee)
            .order_by(portfolio_table.c.building_id)
        )
        with self._read() as connection:
            return [_entry(row) for row in connection.execute(query)]

    def entries(self, insee: str, building_ids: Sequence[str]) -> dict[str, PortfolioEntry]:
        """The portfolio entries of some of the commune's buildings, by building id."""
        if not building_ids:
            return {}
        query = sa.select(portfolio_table).where(
            portfolio_table.c.commune_insee == insee,
            portfolio_table.c.building_id.in_(list(building_ids)),
        )
        with self._read() as connection:
            return {row.building_id: _entry(row) for row in connection.execute(query)}

    def entry(self, insee: str, building_id: str) -> PortfolioEntry | None:
        """One entry, or None when the building is not in the commune's portfolio."""
        return self.entries(insee, [building_id]).get(building_id)

    def retained(self, insee: str | None = None) -> list[PortfolioEntry]:
        """The retained buildings of a commune, or of every commune when ``insee`` is None,
        by commune and building id."""
        query = (
            sa.select(portfolio_table)
            .where(portfolio_table.c.status == "retenu")
            .order_by(portfolio_table.c.commune_insee, portfolio_table.c.building_id)
        )
        if insee is not None:
            query = query.where(portfolio_table.c.commune_insee == insee)
        with self._read() as connection:
            return [_entry(row) for row in connection.execute(query)]

    def _label(self, connection: Connection, key_id: int | None) -> str | None:
        if key_id is None:
            return None
        label = connection.execute(
            sa.select(keys_table.c.label).where(keys_table.c.id == key_id)
        ).scalar()
        if label is None:
            raise NotFound(f"no key with id {key_id}")
        return str(label)

    def _write_entries(
        self, connection: Connection, entries: Sequence[PortfolioEntry], *, key_id: int, label: str
    ) -> list[bool]:
        """Write entries and their journal rows in a few statements (an import of 1,000
        rows is three ``executemany``, not 3,000 round trips); for each, whether it was
        created."""
        before: dict[tuple[str, str], PortfolioEntry] = {}
        by_commune: dict[str, list[str]] = {}
        for entry in entries:
            by_commune.setdefault(entry.commune_insee, []).append(entry.building_id)
        for insee, ids in sorted(by_commune.items()):
            if not self.is_sqlite:
                # writers of one commune queue here (SQLite's BEGIN IMMEDIATE queues every
                # writer): each journals what the one before it wrote, even for an entry
                # two of them create at once
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:insee))"),
                    {"space": _PG_PORTFOLIO_LOCKS, "insee": insee},
                )
            for start in range(0, len(ids), _IN_CHUNK):
                select = sa.select(portfolio_table).where(
                    portfolio_table.c.commune_insee == insee,
                    portfolio_table.c.building_id.in_(ids[start : start + _IN_CHUNK]),
                )
                for row in connection.execute(select):
                    before[(row.commune_insee, row.building_id)] = _entry(row)
        created = [(e.commune_insee, e.building_id) not in before for e in entries]
        new = [_values(e) for e, c in zip(entries, created, strict=True) if c]
        if new:
            insert = (sqlite.insert if self.is_sqlite else postgresql.insert)(portfolio_table)
            # the upsert only guards against a writer that bypassed the lock above
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["commune_insee", "building_id"],
                    set_={n: insert.excluded[n] for n in _ENTRY_VALUES},
                ),
                new,
            )
        replaced = [
            {**_values(e), "key_commune": e.commune_insee, "key_building": e.building_id}
            for e, c in zip(entries, created, strict=True)
            if not c
        ]
        if replaced:
            connection.execute(
                portfolio_table.update()
                .where(
                    portfolio_table.c.commune_insee == sa.bindparam("key_commune"),
                    portfolio_table.c.building_id == sa.bindparam("key_building"),
                )
                .values({n: sa.bindparam(n) for n in _ENTRY_VALUES}),
                [{k: v for k, v in r.items() if k not in _ENTRY_KEYS} for r in replaced],
            )
        connection.execute(
            journal_table.insert(),
            [
                {
                    "at": e.updated_at,
                    "key_id": key_id,
                    "key_label": label,
                    "action": "portfolio.create" if c else "portfolio.update",
                    "commune_insee": e.commune_insee,
                    "building_id": e.building_id,
                    "before": _entry_json(before.get((e.commune_insee, e.building_id))),
                    "after": _entry_json(e),
                }
                for e, c in zip(entries, created, strict=True)
            ],
        )
        return created

    def put_entry(self, entry: PortfolioEntry, *, key_id: int) -> bool:
        """Create or replace one entry, journaled under ``key_id``.

        Returns
        -------
        bool
            True when the entry was created, False when it replaced one.
        """
        with self._write() as connection:
            label = self._label(connection, key_id)
            assert label is not None
            return self._write_entries(connection, [entry], key_id=key_id, label=label)[0]

    def import_entries(self, entries: Sequence[PortfolioEntry], *, key_id: int) -> list[bool]:
        """Create or replace many entries in one transaction: all of them, or none.

        Returns
        -------
        list of bool
            For each entry, whether it was created.
        """
        with self._write() as connection:
            label = self._label(connection, key_id)
            assert label is not None
            return self._write_entries(connection, entries, key_id=key_id, label=label)

    def journal(self, insee: str | None = None) -> list[dict[str, Any]]:
        """The journal, oldest first; of one commune when ``insee`` is given.

        Each row: ``at`` (UTC), ``key_id``, ``key_label``, ``action``, ``commune_insee``,
        ``building_id``, and ``before``/``after`` decoded from JSON (None when absent).
        """
        query = sa.select(journal_table).order_by(journal_table.c.id)
        if insee is not None:
            query = query.where(journal_table.c.commune_insee == insee)
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "at": _utc(r.at),
                "key_id": r.key_id,
                "key_label": r.key_label,
                "action": r.action,
                "commune_insee": r.commune_insee,
                "building_id": r.building_id,
                "before": json.loads(r.before) if r.before else None,
                "after": json.loads(r.after) if r.after else None,
            }
            for r in rows
        ]

    # --- keys -------------------------------------------------------------------------

    def create_key(self, label: str, communes: Sequence[str] | None) -> tuple[int, str]:
        """A new key for ``communes`` (INSEE codes), or for the territory when None.

        Returns
        -------
        tuple of (int, str)
            The key's id, and the key itself: shown once, kept nowhere.

        Raises
        ------
        solar.errors.InputError
            For an empty label, a label already used, no commune, or a malformed INSEE code.
        """
        label = label.strip()
        if not label:
            raise InputError("a key needs a label (who holds it)", source="label")
        if communes is not None:
            communes = sorted(set(communes))
            if not communes:
                raise InputError("give at least one commune, or a territory key", source="commune")
            for insee in communes:
                if not INSEE_PATTERN.match(insee):
                    raise InputError(f"{insee!r} is not an INSEE commune code", source="commune")
        key = new_key()
        now = _now()
        try:
            with self._write() as connection:
                key_id = connection.execute(
                    keys_table.insert()
                    .values(
                        label=label,
                        key_hash=hash_key(key),
                        territory=communes is None,
                        created_at=now,
                    )
                    .returning(keys_table.c.id)
                ).scalar_one()
                if communes is not None:
                    connection.execute(
                        key_communes_table.insert(),
                        [{"key_id": key_id, "commune_insee": c} for c in communes],
                    )
                connection.execute(
                    journal_table.insert().values(
                        at=now,
                        key_id=key_id,
                        key_label=label,
                        action="key.create",
                        after=json.dumps({"label": label, "communes": communes}),
                    )
                )
        except IntegrityError:
            raise InputError(f"a key labelled {label!r} exists already", source="label") from None
        return int(key_id), key

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, by id."""
        with self._read() as connection:
            keys = connection.execute(sa.select(keys_table).order_by(keys_table.c.id)).all()
            communes: dict[int, set[str]] = {}
            for key_id, insee in connection.execute(sa.select(key_communes_table)):
                communes.setdefault(key_id, set()).add(insee)
        out = []
        for row in keys:
            created_at = _utc(row.created_at)
            assert created_at is not None
            out.append(
                KeyInfo(
                    key_id=row.id,
                    label=row.label,
                    communes=None if row.territory else frozenset(communes.get(row.id, ())),
                    created_at=created_at,
                    revoked_at=_utc(row.revoked_at),
                )
            )
        return out

    def revoke_key(self, id_or_label: int | str) -> KeyInfo:
        """Revoke a key, by id or by label; revoking it again changes nothing.

        Raises
        ------
        solar.errors.NotFound
            When no key has this id or label.
        """
        keys = self.list_keys()
        match = [
            k
            for k in keys
            if k.label == str(id_or_label) or str(k.key_id) == str(id_or_label).strip()
        ]
        if not match:
            raise NotFound(f"no key with id or label {id_or_label!r}")
        # an id wins over a label that happens to look like another key's id
        key = min(match, key=lambda k: str(k.key_id) != str(id_or_label).strip())
        if key.revoked_at is not None:
            return key
        now = _now()
        with self._trusted_lock:
            self._trusted.clear()
        with self._write() as connection:
            connection.execute(
                keys_table.update().where(keys_table.c.id == key.key_id).values(revoked_at=now)
            )
            connection.execute(
                journal_table.insert().values(
                    at=now,
                    key_id=key.key_id,
                    key_label=key.label,
                    action="key.revoke",
                    before=json.dumps({"label": key.label, "revoked_at": None}),
                    after=json.dumps({"label": key.label, "revoked_at": now.isoformat()}),
                )
            )
        return KeyInfo(key.key_id, key.label, key.communes, key.created_at, now)

    def authenticate(self, key: str) -> KeyScope | None:
        """The scope of a valid key; None for an unknown or revoked one."""
        digest = hash_key(key)
        with self._read() as connection:
            row = connection.execute(
                sa.select(keys_table).where(keys_table.c.key_hash == digest)
            ).first()
            if row is None or row.revoked_at is not None or not same_hash(row.key_hash, key):
                return None
            communes = None
            if not row.territory:
                communes = frozenset(
                    connection.execute(
                        sa.select(key_communes_table.c.commune_insee).where(
                            key_communes_table.c.key_id == row.id
                        )
                    ).scalars()
                )
        scope = KeyScope(key_id=row.id, label=row.label, communes=communes)
        with self._trusted_lock:
            if len(self._trusted) >= _TRUSTED_KEYS_MAX:
                self._trusted.clear()
            self._trusted[digest] = (_clock() + KEY_RECHECK_SECONDS, scope)
        return scope

    def trusted_scope(self, key: str) -> KeyScope | None:
        """The scope of a key :meth:`authenticate` accepted less than
        :data:`KEY_RECHECK_SECONDS` ago, without reading the store; None otherwise.

        The listing pages of a commune's agent come one after another with the same key:
        this spares each of them two queries, and with PostgreSQL two round trips.
        """
        digest = hash_key(key)
        with self._trusted_lock:
            trusted = self._trusted.get(digest)
        if trusted is None or trusted[0] < _clock():
            return None
        return trusted[1]

    # --- jobs -------------------------------------------------------------------------

    def create_job(
        self, kind: str, insee: str | None, params: dict[str, Any], key_id: int | None
    ) -> str:
        """Queue a job; its id (a random UUID)."""
        job_id = str(uuid.uuid4())
        with self._write() as connection:
            connection.execute(
                jobs_table.insert().values(
                    id=job_id,
                    kind=kind,
                    commune_insee=insee,
                    params=json.dumps(params),
                    key_id=key_id,
                    state="queued",
                    progress=0.0,
                    created_at=_now(),
                )
            )
        return job_id

    def job(self, job_id: str) -> Job | None:
        """A job without its result, or None."""
        with self._read() as connection:
            row = connection.execute(
                sa.select(*_JOB_COLUMNS).where(jobs_table.c.id == job_id)
            ).first()
        return _job(row) if row is not None else None

    def job_result(self, job_id: str) -> bytes | None:
        """The file a job made, or None until it is done."""
        with self._read() as connection:
            result = connection.execute(
                sa.select(jobs_table.c.result).where(jobs_table.c.id == job_id)
            ).scalar()
        return bytes(result) if result is not None else None

    def update_job(
        self,
        job_id: str,
        *,
        progress: float | None = None,
        state: str | None = None,
        result: bytes | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record a job's progress, or its end (``done`` with a result, or ``failed``)."""
        now = _now()
        values: dict[str, Any] = {"heartbeat_at": now}
        if progress is not None:
            values["progress"] = min(max(float(progress), 0.0), 1.0)
        if state is not None:
            if state not in JOB_STATES:
                raise ValueError(f"unknown job state {state!r}")
            values["state"] = state
            if state == "running":
                values["started_at"] = now
            if state in ("done", "failed"):
                values["finished_at"] = now
            if state == "done":
                values["progress"] = 1.0
        for name, value in (
            ("result", result),
            ("media_type", media_type),
            ("filename", filename),
            ("error", error),
        ):
            if value is not None:
                values[name] = value
        with self._write() as connection:
            connection.execute(jobs_table.update().where(jobs_table.c.id == job_id).values(values))

    def pending_jobs(self) -> list[Job]:
        """Jobs queued or running, oldest first (what a restarted service takes up)."""
        with self._read() as connection:
            rows = connection.execute(
                sa.select(*_JOB_COLUMNS)
                .where(jobs_table.c.state.in_(("queued", "running")))
                .order_by(jobs_table.c.created_at)
            ).all()
        return [_job(r) for r in rows]

    def claim_job(self) -> Job | None:
        """Take the oldest queued job and mark it running; None when none is queued.

        Several runners (workers, servers) may poll together: the conditional update lets
        exactly one of them take a job.
        """
        with self._read() as connection:
            candidates = connection.execute(
                sa.select(jobs_table.c.id)
                .where(jobs_table.c.state == "queued")
                .order_by(jobs_table.c.created_at)
                .limit(5)
            ).scalars()
            ids = list(candidates)
        for job_id in ids:
            now = _now()
            with self._write() as connection:
                taken = connection.execute(
                    jobs_table.update()
                    .where(jobs_table.c.id == job_id, jobs_table.c.state == "queued")
                    .values(state="running", started_at=now, heartbeat_at=now)
                ).rowcount
            if taken == 1:
                return self.job(job_id)
        return None

    def requeue_stale(self, older_than: dt.timedelta) -> int:
        """Queue again the running jobs silent for longer than ``older_than``: their runner
        stopped (a restart, a crash). Returns how many."""
        limit = _now() - older_than
        with self._write() as connection:
            count = connection.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.state == "running",
                    sa.or_(jobs_table.c.heartbeat_at.is_(None), jobs_table.c.heartbeat_at < limit),
                )
                .values(state="queued", progress=0.0)
            ).rowcount
        return int(count)
