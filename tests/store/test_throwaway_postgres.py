"""A machine without PostgreSQL still runs the PostgreSQL specs: the suite starts a throwaway server
from the Debian package (tests/throwaway_postgres.py), never as root, and removes it afterwards."""

from __future__ import annotations

import os

import psycopg
import pytest

from opsbot.core.request import Request
from opsbot.store import Store


def test_the_store_works_on_a_throwaway_server_the_suite_starts_itself(throwaway_postgres):
    url = throwaway_postgres.url
    assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    req = Request(text="restart nginx on web-1", user="U_ALICE", channel="C1", thread=None, frontend="test")
    with Store.open(url) as store:  # migrates the empty database
        store.record_request(req)
    with Store.open(url) as reopened:  # a restart reads it back
        assert reopened.request_text(req.id) == "restart nginx on web-1"
        assert reopened.verify_audit() == []


def test_the_throwaway_server_does_not_run_as_root_and_leaves_nothing_behind(throwaway_postgres):
    with psycopg.connect(f"host=127.0.0.1 port={throwaway_postgres.port} user=postgres dbname=test") as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert os.stat(f"/proc/{pid}").st_uid != 0  # PostgreSQL refuses root; so do we
    throwaway_postgres.stop()
    assert not throwaway_postgres.root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"host=127.0.0.1 port={throwaway_postgres.port} user=postgres dbname=test", connect_timeout=5)
