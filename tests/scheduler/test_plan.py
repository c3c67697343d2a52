"""The wave plan: calendar months, the send window, DST, month ends and missed waves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduler.plan import add_months, due_at, in_window, next_in_window, plan_check_ins
from surveys.domain import waves
from surveys.settings import load_settings

LONDON = ZoneInfo("Europe/London")
WINDOW = (time(9, 30), time(16, 30))
SETTINGS = load_settings(env={}, env_file=None)
NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@dataclass
class FakeCourse:
    """The plan's view of a course."""

    delivered_on: date
    waves: list[str] = field(default_factory=lambda: ["post", "3m", "6m"])
    zone: str = "Europe/London"
    ended_at: datetime | None = None


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def test_a_course_today_gets_its_three_and_six_month_messages_at_half_past_nine_local_across_the_march_change():
    # 15 Jan 2026 is GMT; 15 Apr and 15 Jul are BST (UTC+1), so 09:30 local is 08:30 UTC.
    assert due_at(date(2026, 1, 15), "3m", LONDON, WINDOW) == datetime(2026, 4, 15, 8, 30, tzinfo=UTC)
    assert due_at(date(2026, 1, 15), "6m", LONDON, WINDOW) == datetime(2026, 7, 15, 8, 30, tzinfo=UTC)


def test_a_summer_course_keeps_half_past_nine_local_after_the_october_change():
    # 1 Sep 2026 is BST; 1 Dec 2026 (a Tuesday) is GMT: 09:30 local is 09:30 UTC.
    assert due_at(date(2026, 9, 1), "3m", LONDON, WINDOW) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_a_due_date_on_a_saturday_moves_to_monday_half_past_nine():
    # 14 Aug 2026 + 3 months = Saturday 14 Nov 2026 → Monday 16 Nov, 09:30 GMT.
    assert due_at(date(2026, 8, 14), "3m", LONDON, WINDOW) == datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    assert next_in_window(london(2026, 1, 17, 11, 0), LONDON, WINDOW) == london(2026, 1, 19, 9, 30)


def test_a_sunday_moves_to_monday_half_past_nine():
    assert next_in_window(london(2026, 1, 18, 15, 0), LONDON, WINDOW) == london(2026, 1, 19, 9, 30)


def test_after_half_past_four_moves_to_the_next_weekday_morning():
    assert next_in_window(london(2026, 1, 15, 16, 31), LONDON, WINDOW) == london(2026, 1, 16, 9, 30)
    assert next_in_window(london(2026, 1, 16, 17, 0), LONDON, WINDOW) == london(2026, 1, 19, 9, 30)


def test_before_half_past_nine_moves_to_the_same_morning():
    assert next_in_window(london(2026, 1, 15, 7, 0), LONDON, WINDOW) == london(2026, 1, 15, 9, 30)


def test_a_moment_inside_the_window_stays_where_it_is():
    assert next_in_window(london(2026, 1, 15, 16, 30), LONDON, WINDOW) == london(2026, 1, 15, 16, 30)
    assert next_in_window(london(2026, 1, 15, 11, 5), LONDON, WINDOW) == london(2026, 1, 15, 11, 5)


def test_month_ends_are_clamped_to_the_last_day_of_the_month():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 31), 12) == date(2027, 10, 31)
    # 31 Jan + 3 months is Thursday 30 April, 09:30 BST.
    assert due_at(date(2026, 1, 31), "3m", LONDON, WINDOW) == datetime(2026, 4, 30, 8, 30, tzinfo=UTC)


def test_a_moment_keeps_its_local_clock_time_months_later():
    ended = london(2026, 1, 15, 14, 0)
    assert due_at(ended, "3m", LONDON, WINDOW) == london(2026, 4, 15, 14, 0)


def test_other_zones_use_their_own_working_hours():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert due_at(date(2026, 1, 15), "3m", tokyo, WINDOW) == datetime(2026, 4, 15, 9, 30, tzinfo=tokyo)


def test_someone_enrolling_before_the_course_gets_pre_now_and_post_when_the_officer_ends_it():
    course = FakeCourse(delivered_on=date(2026, 1, 15), waves=["pre", "post", "3m", "6m"])
    morning = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    plan = {p.wave: p for p in plan_check_ins(course, morning, morning, SETTINGS)}
    assert plan["pre"].due_at == morning and plan["pre"].state == "scheduled"
    # Until the officer ends it, post falls back to the next working morning.
    assert plan["post"].due_at == datetime(2026, 1, 16, 9, 30, tzinfo=UTC)
    assert plan["3m"].due_at == datetime(2026, 4, 15, 8, 30, tzinfo=UTC)
    assert all(p.closes_at == p.due_at + timedelta(days=21) for w, p in plan.items() if w != "pre")


def test_pre_closes_at_the_end_of_the_course_day_even_if_nobody_ends_the_course():
    # A Friday course: post falls back to Monday morning, but pre must not stay open over the weekend.
    course = FakeCourse(delivered_on=date(2026, 1, 16), waves=["pre", "post"])
    enrolled = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # two days before, by the room link sent early
    plan = {p.wave: p for p in plan_check_ins(course, enrolled, enrolled, SETTINGS)}
    assert plan["pre"].closes_at == datetime(2026, 1, 17, 0, 0, tzinfo=UTC)  # midnight in London, winter
    assert plan["post"].due_at == datetime(2026, 1, 19, 9, 30, tzinfo=UTC)


def test_someone_enrolling_after_the_course_ended_gets_post_at_once_and_pre_is_recorded_as_missed():
    course = FakeCourse(
        delivered_on=date(2026, 1, 15), waves=["pre", "post", "3m"], ended_at=datetime(2026, 1, 15, 9, 45, tzinfo=UTC)
    )
    plan = {p.wave: p for p in plan_check_ins(course, NOW, NOW, SETTINGS)}
    assert plan["pre"].state == "missed"
    assert plan["post"].due_at == NOW and plan["post"].state == "scheduled"


def test_an_evening_enrolment_after_the_course_day_still_gets_post_at_once():
    course = FakeCourse(delivered_on=date(2026, 1, 14))
    evening = datetime(2026, 1, 17, 21, 0, tzinfo=UTC)  # a Saturday night: they are in the chat now
    plan = {p.wave: p for p in plan_check_ins(course, evening, evening, SETTINGS)}
    assert plan["post"].due_at == evening


def test_waves_that_closed_before_enrolment_are_recorded_as_missed_not_dropped():
    course = FakeCourse(delivered_on=date(2025, 6, 2), waves=["post", "3m", "6m", "12m"])
    plan = {p.wave: p for p in plan_check_ins(course, NOW, NOW, SETTINGS)}
    assert [p.wave for p in plan.values()] == ["post", "3m", "6m", "12m"]
    assert plan["3m"].state == "missed"
    assert plan["6m"].state == "missed"  # 2 Dec + 21 days closed on 23 Dec
    assert plan["post"].state == "scheduled"
    assert plan["12m"].state == "scheduled"


def test_a_wave_due_but_still_open_at_enrolment_is_scheduled_not_missed():
    course = FakeCourse(delivered_on=date(2025, 10, 6))  # 3m due Tue 6 Jan 2026, open until 27 Jan
    plan = {p.wave: p for p in plan_check_ins(course, NOW, NOW, SETTINGS)}
    assert plan["3m"].state == "scheduled" and plan["3m"].due_at < NOW


ZONES = st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham"])


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    wave=st.sampled_from(["post", "1m", "3m", "6m", "12m"]),
    zone_name=ZONES,
)
def test_a_due_time_is_always_inside_the_window_and_never_before_the_nominal_date(day, wave, zone_name):
    zone = ZoneInfo(zone_name)
    due = due_at(day, wave, zone, WINDOW)
    local = due.astimezone(zone)
    assert due.tzinfo is UTC
    assert in_window(due, zone, WINDOW)
    assert local.weekday() < 5 and WINDOW[0] <= local.time() <= WINDOW[1]
    nominal = add_months(day, waves.months(wave))
    assert local.date() >= nominal
    assert (local.date() - nominal).days <= 2  # at most a weekend later


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)),
    zone_name=ZONES,
)
def test_the_next_window_moment_is_never_earlier_and_always_inside(moment, zone_name):
    zone = ZoneInfo(zone_name)
    moved = next_in_window(moment, zone, WINDOW)
    assert moved >= moment
    assert in_window(moved, zone, WINDOW)
    assert moved - moment <= timedelta(days=3, hours=18)
