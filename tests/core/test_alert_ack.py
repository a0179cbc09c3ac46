"""An ack typed in an alert's thread is recorded on that alert group in the store the bot runs on: the
alert executors are handed the bot's store, they do not open another one from the config."""

from datetime import UTC, datetime

from pipeline_helpers import ask

from opsbot.app import build_app
from opsbot.config import Config
from opsbot.store import Store

KEY = "a" * 64


def test_an_ack_in_an_alerts_thread_is_recorded_in_the_bots_own_store(tmp_path):
    config = Config(
        database_url=f"sqlite:///{tmp_path / 'named-in-the-config.db'}",
        access={"default_roles": ["operator"]},
    )
    store = Store.open(f"sqlite:///{tmp_path / 'the-bots.db'}")
    store.claim_alert_group(
        KEY,
        group_key='{}:{alertname="TargetDown"}',
        name="TargetDown",
        status="firing",
        labels={"alertname": "TargetDown"},
        alerts={},
        channel="c",
        now=datetime.now(UTC),
    )
    store.set_alert_message(KEY, "c", "1700000000.000100")
    with build_app(config, store=store) as app:
        reply = ask(app, "I'm on it", user="bob", thread="1700000000.000100")
        assert reply.kind != "error", reply.text
        assert app.store.alert_group(KEY).acked_by == "bob"
