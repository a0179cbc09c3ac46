"""Attack 3: secrets at rest. One redactor runs at the store's boundary, so a password typed into a
request is in no table (requests, tasks, replies, conversations, executions, audit); with store keys,
message texts and command outputs are encrypted, so a dump without the key shows none of them."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlalchemy import MetaData, select

from opsbot.core.conversation import Conversation, LastTask
from opsbot.core.reply import Reply
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.store import Store
from opsbot.store.sealing import UNREADABLE

SECRETS = ["Hunter3pass", "Hunter3flag", "sess10nC00kie", "t0kenvalue99"]
TYPED = f"run the backup with password={SECRETS[0]} --password {SECRETS[1]} Cookie: session={SECRETS[2]}"


def dump(store: Store) -> str:
    """Every value in every table, as someone with a copy of the database sees it."""
    meta = MetaData()
    meta.reflect(store.engine)
    out = []
    with store.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def record_everything(store: Store, text: str, output: str, params: dict | None = None) -> Request:
    params = {"text": text} if params is None else params
    req = Request(text=text, user="U_ALICE")
    store.record_request(req)
    store.record_task(req.id, Task(intent="x.run", params=params, note=None), 1.0)
    store.record_reply(req.id, Reply(text=f"done: {output}"))
    last = LastTask(intent="x.run", params=params, at=datetime.now(UTC))
    store.save_conversation(req.conversation, Conversation(last=last))
    execution = store.start_execution(req.id, "x.run", "x.run", "ssh", params, "U_ALICE")
    store.finish_execution(execution, "ok", output)
    store.audit("U_ALICE", "test.secret", params)
    return req


def test_a_typed_password_is_in_no_table(store):
    record_everything(store, TYPED, f"Authorization: Bearer {SECRETS[3]}abcdef")
    everything = dump(store)
    for secret in SECRETS:
        assert secret not in everything
    assert "run the backup with password=[REDACTED]" in everything  # the rest of the request is kept
    assert store.verify_audit() == []


def test_with_a_key_a_dump_shows_no_request_text_or_output(db_url):
    key = Fernet.generate_key()
    with Store.open(db_url, keys=[key]) as store:
        req = record_everything(
            store, "restart nginx on web-1 please", "nginx.service is active (running)", {"host": "web-1"}
        )
        everything = dump(store)
        assert "restart nginx on web-1 please" not in everything
        assert "is active (running)" not in everything
        assert store.request_text(req.id) == "restart nginx on web-1 please"
        [row] = [r for r in store.export_feedback() if r["request_id"] == req.id]
        assert row["text"] == "restart nginx on web-1 please" and "is active" in row["outcome"]["text"]
    with Store(db_url) as keyless:
        assert keyless.request_text(req.id) == UNREADABLE


def test_rotate_key_re_encrypts_so_the_old_key_can_go(db_url):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    with Store.open(db_url) as plain:  # written before there were keys
        early = Request(text="cpu on web-1", user="U1")
        plain.record_request(early)
    with Store.open(db_url, keys=[old]) as store:
        later = Request(text="disk on db-1", user="U1")
        store.record_request(later)
    with Store.open(db_url, keys=[new, old]) as rotating:
        assert rotating.rotate_key()["requests"] == 2
    with Store(db_url, keys=[new]) as store:
        assert store.request_text(early.id) == "cpu on web-1"
        assert store.request_text(later.id) == "disk on db-1"
        assert "cpu on web-1" not in dump(store)
