"""The store on SQLite and on PostgreSQL: migrations, portfolio, journal, keys and jobs."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading

import pytest
import sqlalchemy as sa

from app.communes import store as store_module
from app.communes.store import SCHEMA_VERSION, Store, keys_table
from solar.communes.portfolio import PortfolioEntry
from solar.errors import InputError, NotFound

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def _entry(building_id: str, status: str | None = "retenu", **values: object) -> PortfolioEntry:
    fields: dict[str, object] = {
        "reason": None,
        "usage": "ecole",
        "annual_consumption_kwh": 42_000.0,
        "note": "Toiture refaite en 2019 — « bon état »",
        "updated_at": NOW,
        "updated_by": "Mairie de Lens",
        **values,
    }
    return PortfolioEntry("62498", building_id, status, **fields)  # type: ignore[arg-type]


def test_a_new_store_is_stamped_and_opens_again(store_url: str) -> None:
    first = Store(store_url)
    assert first.schema_version() == SCHEMA_VERSION
    first.create_key("Mairie de Lens", ["62498"])
    first.close()
    again = Store(store_url)
    assert again.schema_version() == SCHEMA_VERSION
    assert [k.label for k in again.list_keys()] == ["Mairie de Lens"]
    again.close()


def test_an_older_store_is_migrated_once(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Store(store_url).close()
    calls = []

    def add_column(connection: sa.Connection) -> None:
        calls.append(1)
        connection.execute(sa.text("ALTER TABLE portfolio ADD COLUMN surface_note TEXT"))

    monkeypatch.setattr(store_module, "MIGRATIONS", (add_column,))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    migrated = Store(store_url)
    assert migrated.schema_version() == 2
    migrated.close()
    Store(store_url).close()
    assert calls == [1]


def test_a_newer_store_is_refused(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Store(store_url).close()
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 0)
    with pytest.raises(InputError, match="newer than this service"):
        Store(store_url)


def test_workers_opening_together_migrate_once(store_url: str) -> None:
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            Store(store_url).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = Store(store_url)
    assert store.schema_version() == SCHEMA_VERSION
    store.close()


def test_portfolio_entries_round_trip_and_are_journaled(store: Store) -> None:
    key_id, _ = store.create_key("Mairie de Lens", ["62498"])
    assert store.put_entry(_entry("B1"), key_id=key_id) is True
    changed = _entry("B1", "ecarte", reason="patrimoine_abf", note=None)
    assert store.put_entry(changed, key_id=key_id) is False
    assert store.put_entry(_entry("B2", "a_etudier"), key_id=key_id) is True
    assert store.portfolio("62498") == [changed, _entry("B2", "a_etudier")]
    assert store.entry("62498", "B1") == changed
    assert store.entry("62498", "B9") is None
    assert store.portfolio("62510") == []
    assert store.retained() == []
    journal = [j for j in store.journal("62498")]
    assert [j["action"] for j in journal] == [
        "portfolio.create",
        "portfolio.update",
        "portfolio.create",
    ]
    update = journal[1]
    assert update["key_id"] == key_id and update["key_label"] == "Mairie de Lens"
    assert update["before"]["status"] == "retenu" and update["after"]["status"] == "ecarte"
    assert update["after"]["reason"] == "patrimoine_abf"


def test_retained_by_commune_and_territory(store: Store) -> None:
    key_id, _ = store.create_key("PMA", None)
    lievin = PortfolioEntry("62510", "L1", "retenu", None, None, None, None, NOW, "PMA")
    store.import_entries(
        [_entry("B1"), _entry("B2", "a_etudier"), lievin, _entry("B3")], key_id=key_id
    )
    assert [e.building_id for e in store.retained("62498")] == ["B1", "B3"]
    assert [(e.commune_insee, e.building_id) for e in store.retained()] == [
        ("62498", "B1"),
        ("62498", "B3"),
        ("62510", "L1"),
    ]


def test_an_import_is_all_or_nothing(store: Store) -> None:
    key_id, _ = store.create_key("Mairie de Lens", ["62498"])
    store.put_entry(_entry("B0", "a_etudier"), key_id=key_id)
    broken = _entry("B2", status=None)  # NOT NULL: the second write fails
    with pytest.raises(sa.exc.IntegrityError):
        store.import_entries([_entry("B0"), _entry("B1"), broken], key_id=key_id)
    assert store.portfolio("62498") == [_entry("B0", "a_etudier")]
    assert len(store.journal("62498")) == 1


def test_keys_are_kept_as_their_hash_only(store: Store, store_url: str) -> None:
    key_id, key = store.create_key("Mairie de Lens", ["62498", "62510"])
    assert len(key) >= 43
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.select(keys_table.c.key_hash)).scalar_one()
        dump = "".join(
            str(r)
            for t in ("api_keys", "journal")
            for r in connection.execute(sa.text(f"SELECT * FROM {t}"))
        )
    engine.dispose()
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    assert key not in dump
    scope = store.authenticate(key)
    assert scope is not None
    assert (scope.key_id, scope.label, scope.communes) == (
        key_id,
        "Mairie de Lens",
        frozenset({"62498", "62510"}),
    )
    assert store.authenticate(key + "x") is None
    assert store.authenticate(stored) is None


def test_keys_are_revoked_by_id_or_label(store: Store) -> None:
    lens_id, lens = store.create_key("Mairie de Lens", ["62498"])
    _, pma = store.create_key("PMA", None)
    scope = store.authenticate(pma)
    assert scope is not None and scope.territory
    assert store.revoke_key(str(lens_id)).revoked_at is not None
    assert store.authenticate(lens) is None
    store.revoke_key("PMA")
    assert store.authenticate(pma) is None
    with pytest.raises(NotFound):
        store.revoke_key("nobody")
    assert [k.revoked_at is not None for k in store.list_keys()] == [True, True]
    assert [j["action"] for j in store.journal()][-2:] == ["key.revoke", "key.revoke"]


def test_a_checked_key_is_trusted_for_a_few_seconds_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lens = store.create_key("Mairie de Lens", ["62498"])
    assert store.trusted_scope(lens) is None  # never checked
    checked = store.authenticate(lens)
    assert store.trusted_scope(lens) == checked
    assert store.trusted_scope(lens + "x") is None
    # another process revokes it: this store notices once the trust runs out
    other = Store(store.url)
    other.revoke_key("Mairie de Lens")
    other.close()
    assert store.trusted_scope(lens) == checked
    later = store_module._clock() + store_module.KEY_RECHECK_SECONDS + 0.1
    monkeypatch.setattr(store_module, "_clock", lambda: later)
    assert store.trusted_scope(lens) is None
    assert store.authenticate(lens) is None


def test_revoking_a_key_here_ends_its_trust_at_once(store: Store) -> None:
    _, lens = store.create_key("Mairie de Lens", ["62498"])
    assert store.authenticate(lens) is not None
    store.revoke_key("Mairie de Lens")
    assert store.trusted_scope(lens) is None


@pytest.mark.parametrize(
    ("label", "communes", "message"),
    [
        ("", ["62498"], "label"),
        ("Lens", [], "at least one commune"),
        ("Lens", ["6249"], "not an INSEE"),
    ],
)
def test_bad_keys_are_refused(store: Store, label: str, communes: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        store.create_key(label, communes)


def test_a_label_is_used_once(store: Store) -> None:
    store.create_key("Mairie de Lens", ["62498"])
    with pytest.raises(InputError, match="exists already"):
        store.create_key("Mairie de Lens", ["62498"])


def test_jobs_are_claimed_once_and_finish(store: Store) -> None:
    first = store.create_job("report", "62498", {"format": "pdf"}, None)
    second = store.create_job("report", None, {}, None)
    assert [j.id for j in store.pending_jobs()] == [first, second]
    claimed = store.claim_job()
    assert claimed is not None and claimed.id == first and claimed.state == "running"
    store.update_job(first, progress=0.5)
    job = store.job(first)
    assert job is not None and job.progress == 0.5 and job.params == {"format": "pdf"}
    store.update_job(
        first, state="done", result=b"%PDF", media_type="application/pdf", filename="r.pdf"
    )
    done = store.job(first)
    assert done is not None and done.state == "done" and done.progress == 1.0
    assert done.finished_at is not None and done.finished_at.tzinfo is not None
    assert store.job_result(first) == b"%PDF"
    assert store.job_result(second) is None
    assert [j.id for j in store.pending_jobs()] == [second]
    assert store.job("no-such-job") is None


def test_a_silent_running_job_is_queued_again(store: Store) -> None:
    job_id = store.create_job("report", "62498", {}, None)
    assert store.claim_job() is not None
    assert store.requeue_stale(dt.timedelta(hours=1)) == 0
    assert store.requeue_stale(dt.timedelta(0)) == 1
    job = store.job(job_id)
    assert job is not None and job.state == "queued"


def test_concurrent_writers_of_one_entry(store: Store) -> None:
    key_id, _ = store.create_key("Mairie de Lens", ["62498"])
    created: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def write(note: str) -> None:
        try:
            start.wait()
            created.append(store.put_entry(_entry("B1", note=note), key_id=key_id))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"note {i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(created) == [False] * 5 + [True]
    journal = store.journal("62498")
    assert len(journal) == 6
    # each write saw the one before it: the journal is a chain
    for previous, current in itertools.pairwise(journal):
        assert current["before"] == previous["after"]
    assert store.portfolio("62498")[0].note == journal[-1]["after"]["note"]
