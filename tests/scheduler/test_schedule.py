"""When a digest is due: schedules as written in the config, and the slots in a window (last, now]."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from opsbot.config import ConfigError, load_config
from opsbot.config.models import DigestConfig
from opsbot.scheduler import due_slots, latest_per_digest, parse_schedule, slots_between


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def digests(**schedules) -> dict:
    return {name: DigestConfig(channel="C0OPS", schedule=s, intents=["help"]) for name, s in schedules.items()}


# ---- daily HH:MM ---------------------------------------------------------------------------------


def test_a_daily_slot_inside_the_window_is_due():
    assert due_slots(digests(daily="09:00"), at("2024-05-01 08:59:50"), at("2024-05-01 09:00:10")) == [
        ("daily", at("2024-05-01 09:00"))
    ]


def test_the_window_is_open_at_the_start_and_closed_at_the_end():
    d = digests(daily="09:00")
    assert due_slots(d, at("2024-05-01 08:59:40"), at("2024-05-01 09:00:00")) == [("daily", at("2024-05-01 09:00"))]
    assert due_slots(d, at("2024-05-01 09:00:00"), at("2024-05-01 09:00:20")) == []


def test_nothing_is_due_between_slots_or_in_an_empty_window():
    d = digests(daily="09:00")
    assert due_slots(d, at("2024-05-01 09:00:20"), at("2024-05-01 23:59:59")) == []
    assert due_slots(d, at("2024-05-01 09:30"), at("2024-05-01 09:30")) == []
    assert due_slots(d, at("2024-05-01 09:30"), at("2024-05-01 08:00")) == []  # the clock went back


def test_a_midnight_slot_is_found_across_the_day_boundary():
    d = digests(nightly="00:00", late="23:59")
    assert due_slots(d, at("2024-12-31 23:59:30"), at("2025-01-01 00:00:10")) == [("nightly", at("2025-01-01 00:00"))]
    assert due_slots(d, at("2024-12-31 23:58:50"), at("2025-01-01 00:00:10")) == [
        ("late", at("2024-12-31 23:59")),
        ("nightly", at("2025-01-01 00:00")),
    ]


def test_several_times_a_day_and_several_digests_come_out_oldest_first():
    d = digests(ops=["17:30", "09:00"], llm="09:00")
    assert due_slots(d, at("2024-05-01 00:00"), at("2024-05-02 10:00")) == [
        ("llm", at("2024-05-01 09:00")),
        ("ops", at("2024-05-01 09:00")),
        ("ops", at("2024-05-01 17:30")),
        ("llm", at("2024-05-02 09:00")),
        ("ops", at("2024-05-02 09:00")),
    ]


def test_times_in_other_zones_are_compared_in_utc():
    plus2 = timezone(timedelta(hours=2))
    last = datetime(2024, 5, 1, 10, 59, tzinfo=plus2)  # 08:59 UTC
    now = datetime(2024, 5, 1, 11, 1, tzinfo=plus2)  # 09:01 UTC
    assert due_slots(digests(daily="09:00"), last, now) == [("daily", at("2024-05-01 09:00"))]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        due_slots(digests(daily="09:00"), datetime(2024, 5, 1, 8), datetime(2024, 5, 1, 10))


# ---- intervals ---------------------------------------------------------------------------------


def test_an_interval_is_aligned_to_utc_midnight_whatever_the_window():
    assert slots_between("every 30m", at("2024-05-01 08:10"), at("2024-05-01 09:40")) == [
        at("2024-05-01 08:30"),
        at("2024-05-01 09:00"),
        at("2024-05-01 09:30"),
    ]
    assert slots_between("every 1h", at("2024-05-01 23:30"), at("2024-05-02 00:00")) == [at("2024-05-02 00:00")]
    assert slots_between("every 1h", at("2024-05-01 08:00"), at("2024-05-01 08:59:59")) == []


def test_a_time_and_an_interval_that_coincide_give_one_slot():
    assert slots_between(["09:00", "every 1h"], at("2024-05-01 08:30"), at("2024-05-01 09:30")) == [
        at("2024-05-01 09:00")
    ]


# ---- the catch-up rule ---------------------------------------------------------------------------


def test_after_a_pause_only_each_digests_newest_slot_is_kept():
    slots = due_slots(digests(a="every 1h", b="09:00"), at("2024-05-01 05:30"), at("2024-05-01 09:10"))
    assert len(slots) == 5
    assert latest_per_digest(slots) == [("a", at("2024-05-01 09:00")), ("b", at("2024-05-01 09:00"))]


# ---- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        "9:00",
        "24:00",
        "09:60",
        "0900",
        "daily",
        "every",
        "every 30s",
        "every 90s",
        "every 2d",
        "every soon",
        [],
        ["09:00", "25:00"],
    ],
)
def test_a_bad_schedule_is_refused(schedule):
    with pytest.raises(ValueError):
        parse_schedule(schedule)


def test_a_bad_schedule_in_the_config_names_the_file_line_and_what_to_write(tmp_path):
    p = tmp_path / "opsbot.yaml"
    p.write_text("digests:\n  daily:\n    channel: C0OPS\n    schedule: '9am'\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert f"{p}:" in msg and "digests.daily.schedule" in msg and "'09:00'" in msg and "every 30m" in msg


def test_the_config_accepts_the_three_spellings(tmp_path):
    p = tmp_path / "opsbot.yaml"
    p.write_text(
        "digests:\n  a: {channel: C1, schedule: '09:00'}\n  b: {channel: C1, schedule: ['09:00', '17:30']}\n"
        "  c: {channel: C1, schedule: every 30m}\n"
    )
    cfg = load_config(p)
    assert [d.schedule for d in cfg.digests.values()] == ["09:00", ["09:00", "17:30"], "every 30m"]


def test_a_digest_name_that_the_digest_intent_could_not_take_is_refused(tmp_path):
    p = tmp_path / "opsbot.yaml"
    p.write_text("digests:\n  daily report: {channel: C1}\n")
    with pytest.raises(ConfigError, match="digest name"):
        load_config(p)
