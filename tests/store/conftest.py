"""Fixtures for the store specs: every test runs on a real SQLite file and on a real PostgreSQL server,
each in a database (or schema) of its own that is thrown away afterwards.

PostgreSQL: the `postgres_url` fixture (tests/conftest.py: $OPSBOT_TEST_PG_URL, default the local `test`
database, else a throwaway server). Each test gets a fresh schema (selected through the connection's
search_path) and drops it afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from opsbot.core.request import Request
from opsbot.store import Store


@pytest.fixture(scope="session")
def pg_admin(postgres_url):
    """An autocommit engine on the PostgreSQL test database."""
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10})
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'opsbot.db'}"
        return
    admin = request.getfixturevalue("pg_admin")
    schema = f"opsbot_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def open_store(db_url) -> Iterator[Callable[[], Store]]:
    """Open (and migrate) another Store on the same database: a restart, or a second replica."""
    opened: list[Store] = []

    def open_() -> Store:
        store = Store.open(db_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store) -> Store:
    return open_store()


@pytest.fixture
def new_request(store) -> Callable[..., Request]:
    """Record a request and return it."""

    def make(text: str = "restart nginx on web-1", user: str = "U_ALICE", **kw) -> Request:
        req = Request(text=text, user=user, **kw)
        store.record_request(req)
        return req

    return make


@pytest.fixture
def run_sql(store) -> Callable[..., None]:
    """Raw SQL behind the store's back: how a tamperer would change the database."""

    def run(sql: str, **params) -> None:
        with store.engine.begin() as conn:
            conn.execute(text(sql), params)

    return run


@pytest.fixture
def race() -> Callable[..., list[object]]:
    """Run callables on threads released at the same instant (two replicas clicking at once)."""
    return _race


def _race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls on threads released together; their results in order (exceptions re-raised)."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
