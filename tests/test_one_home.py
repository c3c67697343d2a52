"""One home per rule: the check-in state names and the wave grammar are written once, in surveys/domain."""

import re
from pathlib import Path

import pytest

from surveys.domain import states, waves

ROOT = Path(__file__).resolve().parent.parent
# Where product code lives. Migrations are history: each keeps the literal schema it created.
SOURCES = ("bot", "surveys", "scheduler", "bench")
STATE_HOME = ROOT / "surveys/domain/states.py"
WAVE_HOME = ROOT / "surveys/domain/waves.py"

# A state written as a bare string literal: "in_progress", 'missed', …
STATE_LITERAL = re.compile(r"""(?<![\w.])["']({})["']""".format("|".join(s.value for s in states.CheckInState)))
# Another regular expression for waves: anything spelling months as digits followed by m.
WAVE_REGEX = re.compile(r"""(\\d|\[0-9\]|\[1-9\])[^"'\n]{0,12}m\b.*?["']|pre\|post""")


def _python_files() -> list[Path]:
    return [p for top in SOURCES for p in (ROOT / top).rglob("*.py")]


def test_the_sources_are_found():
    assert len(_python_files()) > 50


def test_check_in_state_names_are_written_only_in_the_states_module():
    found = []
    for path in _python_files():
        if path == STATE_HOME:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if STATE_LITERAL.search(line) and "# not a check-in state" not in line:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "use surveys.domain.states.CheckInState instead of:\n" + "\n".join(found)


def test_the_wave_grammar_is_written_only_in_the_waves_module():
    found = []
    for path in _python_files():
        if path == WAVE_HOME:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WAVE_REGEX.search(line) and ("re.compile" in line or "pattern" in line.lower() or "|" in line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "use surveys.domain.waves instead of:\n" + "\n".join(found)


@pytest.mark.parametrize("line", ['    if state == "missed":', "OPEN = ('scheduled', 'sent')"])
def test_the_state_check_would_catch_a_copy(line):
    assert STATE_LITERAL.search(line)


@pytest.mark.parametrize(
    "line", ['WAVE_PATTERN = re.compile(r"^(pre|post|\\d{1,2}m)$")', 'MONTHS = re.compile(r"([1-9][0-9]?)m")']
)
def test_the_wave_check_would_catch_a_copy(line):
    assert WAVE_REGEX.search(line)


def test_sql_conditions_come_from_the_named_sets():
    assert waves.is_wave("3m") and not waves.is_wave("0m")
