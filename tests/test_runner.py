"""The periodic tick: one APScheduler job, one pass at a time; purge once a day."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.dispatch import Dispatcher
from scheduler.runner import Ticker, start_periodic
from surveys.clock import FrozenClock
from surveys.settings import load_settings
from tests.recording_messenger import RecordingMessenger

SETTINGS = load_settings(env={}, env_file=None)


async def test_the_dispatcher_runs_as_one_interval_job_never_overlapping(sessions, now):
    scheduler = AsyncIOScheduler()
    scheduler.start(paused=True)  # started, so jobs are real, but nothing fires during the test
    dispatcher = Dispatcher(sessions, RecordingMessenger(), FrozenClock(now), SETTINGS, "w")

    job = start_periodic(dispatcher, 30, scheduler)

    assert [j.id for j in scheduler.get_jobs()] == ["followup-dispatch"]
    assert (job.max_instances, job.coalesce) == (1, True)
    assert job.trigger.interval == timedelta(seconds=30)
    # Adding it again replaces it rather than running two.
    start_periodic(dispatcher, 30, scheduler)
    assert len(scheduler.get_jobs()) == 1
    scheduler.shutdown(wait=False)


async def test_a_tick_purges_at_most_once_a_day(sessions, now):
    clock = FrozenClock(now)
    ticker = Ticker(Dispatcher(sessions, RecordingMessenger(), clock, SETTINGS, "w"))

    _, first = await ticker.tick()
    clock.advance(timedelta(hours=23))
    _, second = await ticker.tick()
    clock.advance(timedelta(hours=1))
    _, third = await ticker.tick()

    assert first is not None and second is None and third is not None
