"""Migrations: shipped inside the package, run in code, safe to repeat, and matching the tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from opsbot.core.request import Request
from opsbot.store import Store, default_database_url
from opsbot.store.store import MIGRATIONS, normalise_url
from opsbot.store.tables import metadata


def test_constructing_a_store_does_not_migrate_but_open_does(db_url):
    plain = Store(db_url)
    try:
        assert inspect(plain.engine).get_table_names() == []
    finally:
        plain.close()
    with Store.open(db_url) as opened:
        assert set(metadata.tables) <= set(inspect(opened.engine).get_table_names())


def test_migrating_again_changes_nothing_and_keeps_data(store):
    req = Request(text="cpu on web-1", user="U1")
    store.record_request(req)
    store.migrate()
    store.migrate()
    assert store.request_text(req.id) == "cpu on web-1"
    with store.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations must form one chain, not {heads}"
    assert current == tuple(heads)


def test_the_migrations_create_exactly_the_tables_the_code_uses(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_two_replicas_migrating_a_new_database_at_once_both_succeed(db_url, race):
    first, second = Store(db_url), Store(db_url)
    try:
        race(first.migrate, second.migrate)
        assert first.verify_audit() == []
        first.audit("U1", "test", {})
        assert [row["seq"] for row in second.audit_rows()] == [1]
    finally:
        first.close()
        second.close()


def test_replicas_opening_a_new_sqlite_file_at_once_all_connect(tmp_path, race):
    # Each first connection switches the new file to WAL; SQLite refuses all but one of them at once.
    for i in range(20):
        stores = [Store(f"sqlite:///{tmp_path / f'new-{i}.db'}") for _ in range(3)]
        try:
            race(*(lambda s=s: s.engine.connect().close() for s in stores))
        finally:
            for s in stores:
                s.close()


def test_postgresql_urls_are_rewritten_to_the_psycopg_driver():
    assert normalise_url("postgresql://u@db/opsbot") == "postgresql+psycopg://u@db/opsbot"
    assert normalise_url("postgres://u@db/opsbot") == "postgresql+psycopg://u@db/opsbot"
    assert normalise_url("postgresql+psycopg://u@db/opsbot") == "postgresql+psycopg://u@db/opsbot"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_default_database_is_a_file_in_the_state_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSBOT_STATE_DIR", str(tmp_path / "state"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'state' / 'opsbot.db'}"
    assert (tmp_path / "state").is_dir()

    monkeypatch.delenv("OPSBOT_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'xdg' / 'opsbot' / 'opsbot.db'}"

    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'home' / '.local' / 'state' / 'opsbot' / 'opsbot.db'}"

    with Store.open() as store:  # no URL: the default file
        store.record_request(Request(text="hi", user="U1"))
    assert (tmp_path / "home" / ".local" / "state" / "opsbot" / "opsbot.db").is_file()


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'x.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_a_plain_postgresql_url_connects_through_psycopg(pg_admin):
    plain = pg_admin.url.set(drivername="postgresql").render_as_string(hide_password=False)
    assert plain.startswith("postgresql://")
    with Store(plain) as store, store.engine.connect() as conn:
        assert store.engine.dialect.driver == "psycopg"
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
