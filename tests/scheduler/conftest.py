"""The scheduler tests' shared parts: a frozen clock, a recording messenger and one dispatcher on them."""

from __future__ import annotations

import pytest

from scheduler.dispatch import Dispatcher
from surveys.clock import FrozenClock
from surveys.settings import load_settings
from tests.support.recording_messenger import RecordingMessenger


@pytest.fixture
def clock(now):
    return FrozenClock(now)


@pytest.fixture
def messenger():
    return RecordingMessenger()


@pytest.fixture
def dispatcher(sessions, messenger, clock):
    return Dispatcher(sessions, messenger, clock, load_settings(env={}, env_file=None), "worker-a")
