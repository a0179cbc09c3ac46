"""The digest scheduler: posts each due digest once, even with two replicas or a restart; catches up
one late digest, not a backlog; a broken digest is reported in its channel and the schedule goes on."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from waiting import wait_until

from opsbot.core.reply import Reply
from opsbot.scheduler import Scheduler, slot_key

NINE = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
DAILY = {"daily": {"channel": "C0OPS", "schedule": "09:00", "intents": ["help"]}}


class Posts:
    """A front end's post(channel, reply) that records, thread-safely."""

    def __init__(self, fail_first: int = 0):
        self.sent: list[tuple[str, Reply]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, channel: str, reply: Reply) -> None:
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise ConnectionError("Slack is down")
            self.sent.append((channel, reply))


# ---- what gets posted ----------------------------------------------------------------------------


def test_a_due_digest_is_built_through_the_pipeline_and_posted_to_its_channel(make_app):
    app = make_app(DAILY)
    posts = Posts()
    s = Scheduler(app.pipeline, posts)
    assert s.tick(NINE - timedelta(seconds=10)) == []
    assert s.tick(NINE + timedelta(seconds=10)) == [("daily", NINE)]
    [(channel, reply)] = posts.sent
    assert channel == "C0OPS" and reply.kind == "result"
    assert reply.text.startswith("*Digest daily*") and "• help:" in reply.text
    assert reply.tables and reply.buttons == []  # nobody to vote: no vote buttons
    assert not app.store.mark_event_processed(slot_key("daily", NINE))  # the slot is claimed
    started = [r for r in app.store.audit_rows(1000) if r["kind"] == "execution.started"]
    assert {r["actor"] for r in started} == {"scheduler"}
    assert {r["data"]["intent"] for r in started} == {"digest.send", "help"}


def test_the_next_ticks_do_not_post_the_same_slot_again(make_app):
    posts = Posts()
    s = Scheduler(make_app(DAILY).pipeline, posts)
    for seconds in (-10, 10, 30, 50, 600):
        s.tick(NINE + timedelta(seconds=seconds))
    assert len(posts.sent) == 1


# ---- at most once: replicas and restarts --------------------------------------------------------


def test_two_replicas_ticking_the_same_slots_at_once_post_each_exactly_once(make_app):
    every_minute = {"often": {"channel": "C0OPS", "schedule": "every 1m", "intents": ["help"]}}
    posts = Posts()
    a = Scheduler(make_app(every_minute).pipeline, posts)
    b = Scheduler(make_app(every_minute).pipeline, posts)  # its own Store on the same SQLite file
    won = {"a": 0, "b": 0}
    for minute in range(15):
        now = NINE + timedelta(minutes=minute, seconds=5)
        barrier = threading.Barrier(2)

        def run(name, s):
            barrier.wait()
            won[name] += len(s.tick(now))

        threads = [threading.Thread(target=run, args=(n, s)) for n, s in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert len(posts.sent) == 15 and won["a"] + won["b"] == 15


def test_two_running_scheduler_threads_post_a_digest_once(make_app):
    posts = Posts()
    ticks = {"a": 0, "b": 0}

    def clock(name):
        def now():
            ticks[name] += 1
            return NINE + timedelta(minutes=2)  # both start just after the 09:00 slot

        return now

    a = Scheduler(make_app(DAILY).pipeline, posts, tick=0.05, now=clock("a")).start()
    b = Scheduler(make_app(DAILY).pipeline, posts, tick=0.05, now=clock("b")).start()
    try:
        wait_until(lambda: ticks["a"] >= 3 and ticks["b"] >= 3)  # each finished its catch-up tick and more
    finally:
        a.stop()
        b.stop()
    assert len(posts.sent) == 1


def test_a_restart_does_not_post_a_digest_the_previous_run_posted(make_app):
    posts = Posts()
    Scheduler(make_app(DAILY).pipeline, posts).tick(NINE + timedelta(seconds=20))
    restarted = Scheduler(make_app(DAILY).pipeline, posts)
    assert restarted.tick(NINE + timedelta(minutes=1)) == []
    assert len(posts.sent) == 1


# ---- catching up ---------------------------------------------------------------------------------


def test_a_start_within_the_grace_period_posts_the_missed_digest(make_app):
    posts = Posts()
    s = Scheduler(make_app(DAILY).pipeline, posts, grace=timedelta(minutes=10))
    assert s.tick(NINE + timedelta(minutes=9)) == [("daily", NINE)]


def test_a_start_after_the_grace_period_skips_the_missed_digest(make_app):
    posts = Posts()
    s = Scheduler(make_app(DAILY).pipeline, posts, grace=timedelta(minutes=10))
    assert s.tick(NINE + timedelta(minutes=11)) == []
    assert posts.sent == []


def test_after_a_long_pause_only_the_newest_slot_is_posted(make_app):
    hourly = {"hourly": {"channel": "C0OPS", "schedule": "every 10m", "intents": ["help"]}}
    posts = Posts()
    s = Scheduler(make_app(hourly).pipeline, posts, grace=timedelta(minutes=30))
    s.tick(NINE)  # posts 09:00
    assert s.tick(NINE + timedelta(hours=3, minutes=1)) == [("hourly", NINE + timedelta(hours=3))]
    assert len(posts.sent) == 2


# ---- failures ------------------------------------------------------------------------------------


def test_a_part_that_cannot_run_is_reported_inside_the_digest(make_app):
    digests = {"mixed": {"channel": "C0OPS", "schedule": "09:00", "intents": ["no.such.intent", "help"]}}
    posts = Posts()
    Scheduler(make_app(digests).pipeline, posts).tick(NINE + timedelta(seconds=5))
    [(_, reply)] = posts.sent
    assert "• no.such.intent: no.such.intent cannot run here: no rule handles" in reply.text
    assert "• help: Here is what I can do" in reply.text


def test_a_broken_digest_is_posted_as_an_error_and_the_others_still_go_out(make_app, monkeypatch):
    from opsbot.executors.bot import BotExecutor

    digest = BotExecutor._digest

    def breaks_for_broken(self, action, ctx):
        if action.params.get("name") == "broken":
            raise RuntimeError("the template is gone")
        return digest(self, action, ctx)

    monkeypatch.setattr(BotExecutor, "_digest", breaks_for_broken)
    digests = {
        "broken": {"channel": "C0BAD", "schedule": "09:00", "intents": ["help"]},
        "good": {"channel": "C0OPS", "schedule": "09:00", "intents": ["help"]},
    }
    posts = Posts()
    s = Scheduler(make_app(digests).pipeline, posts)
    assert s.tick(NINE + timedelta(seconds=5)) == [("broken", NINE), ("good", NINE)]
    sent = dict(posts.sent)
    assert sent["C0BAD"].kind == "error" and "the template is gone" in sent["C0BAD"].text
    assert sent["C0OPS"].kind == "result"


def test_a_state_changing_intent_in_a_digest_is_refused_not_run(tmp_path, make_app):
    pack = tmp_path / "rules"
    pack.mkdir()
    (pack / "cache.yaml").write_text("""
pack: cache
rules:
  - intent: cache.flush
    summary: Flush the cache (needs approval)
    changes_state: true
    action: {executor: bot, kind: help}
""")
    digests = {"risky": {"channel": "C0OPS", "schedule": "09:00", "intents": ["cache.flush", "help"]}}
    posts = Posts()
    app = make_app(digests, rules={"dirs": [str(pack)]})
    Scheduler(app.pipeline, posts).tick(NINE + timedelta(seconds=5))
    started = {r["data"]["intent"] for r in app.store.audit_rows(1000) if r["kind"] == "execution.started"}
    [(_, reply)] = posts.sent
    assert "• cache.flush: cache.flush needs approval and cannot run inside a digest. Nothing was run." in reply.text
    assert started == {"digest.send", "help"}


def test_an_intent_whose_required_params_a_digest_cannot_give_is_reported(make_app):
    digests = {"ssh": {"channel": "C0OPS", "schedule": "09:00", "intents": ["process.top"]}}
    posts = Posts()
    Scheduler(make_app(digests).pipeline, posts).tick(NINE + timedelta(seconds=5))
    [(_, reply)] = posts.sent
    assert "• process.top: process.top needs host, which a digest does not give it. Nothing was run." in reply.text


def test_run_scheduled_refuses_an_intent_that_needs_approval_and_audits_it(make_app):
    app = make_app(DAILY)
    reply = app.pipeline.run_scheduled("service.restart", {"service": "nginx", "host": "web-1"})
    assert reply.kind == "error" and "needs approval" in reply.text and "Nothing was run" in reply.text
    kinds = [(r["actor"], r["kind"]) for r in app.store.audit_rows(1000)]
    assert ("scheduler", "scheduled.refused") in kinds
    assert not any(kind == "execution.started" for _, kind in kinds)


def test_a_failed_post_is_logged_and_the_thread_keeps_scheduling(make_app, caplog):
    every_minute = {"often": {"channel": "C0OPS", "schedule": "every 1m", "intents": ["help"]}}
    posts = Posts(fail_first=1)
    clock = {"now": NINE + timedelta(seconds=5)}
    s = Scheduler(make_app(every_minute).pipeline, posts, tick=0.05, now=lambda: clock["now"]).start()
    try:
        wait_until(lambda: "posting to C0OPS failed" in caplog.text)
        clock["now"] = NINE + timedelta(minutes=1, seconds=5)
        wait_until(lambda: len(posts.sent) == 1)
    finally:
        s.stop()
    assert s._thread is None


def test_a_claim_that_fails_posts_nothing(make_app, caplog):
    app = make_app(DAILY)
    posts = Posts()
    s = Scheduler(app.pipeline, posts)
    app.store.mark_event_processed = lambda key: (_ for _ in ()).throw(OSError("database is gone"))
    assert s.tick(NINE + timedelta(seconds=5)) == []
    assert posts.sent == [] and "could not claim" in caplog.text


def test_the_audit_head_is_posted_to_the_audit_channel_on_its_schedule_once(make_app):
    """Attack 4: an anchor outside the database, posted on a schedule; it verifies the chain as it is."""
    from opsbot.store.audit import parse_anchor

    audit = {"channel": "C0AUDIT", "anchor_schedule": "every 1h"}
    app, replica = make_app({}, audit=audit), make_app({}, audit=audit)
    app.store.audit("U_ALICE", "test.event", {"n": 1})
    posts = Posts()
    first, second = Scheduler(app.pipeline, posts), Scheduler(replica.pipeline, posts)
    for s in (first, second):
        s.tick(NINE - timedelta(seconds=10))
        s.tick(NINE + timedelta(seconds=10))
    [(channel, reply)] = posts.sent  # two replicas, one post
    assert channel == "C0AUDIT" and reply.text.startswith("Audit anchor 1:")
    anchor = parse_anchor(reply.text)
    assert anchor == app.store.audit_head()
    assert app.store.verify_audit(anchor) == []
