"""The impact report: figures equal an independent pandas/scipy computation from the long CSV,
suppression holds everywhere, the HTML fits a phone and an A4 page in Chromium, the PDF holds the charts."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, time

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from scipy import special, stats
from sqlalchemy import update

from surveys.domain.quizset import QuizSet, bundled_quiz_set, load_quiz_set
from surveys.domain.states import CheckInState
from surveys.reporting.export import export
from surveys.reporting.report import build_report, write_report
from surveys.settings import load_settings
from surveys.store.models import Answer
from tests.support.factories import a_course, an_enrolment
from tests.support.synthetic import answer_wave, populate

_QUIZ = load_quiz_set(bundled_quiz_set("cse-core"))
# The comparable core, read from the quiz file itself: scored items asked at every wave of the set.
# (A message-only wave, cse-core's 1m reminder, asks nothing and does not count.)
CORE = [i.id for i in _QUIZ.items if i.scored and set(_QUIZ.asking_waves) <= set(i.waves)]
WAVES = ("pre", "post", "3m", "6m")
SETTINGS = load_settings(env={}, env_file=None)


@pytest.fixture
async def cohort(sessions, now, tmp_path):
    """40 synthetic practitioners on one four-wave course, its report and its long CSV export."""
    async with sessions() as session, session.begin():
        course = await a_course(session, now, delivered_on=date(2025, 6, 2), waves=WAVES, attendance=45)
        await populate(session, course, 40, seed=3, now=now)
    async with sessions() as session:
        report = await build_report(session, None, SETTINGS)
        await export(session, None, "csv", "long", tmp_path / "long.csv")
    frame = pd.read_csv(tmp_path / "long.csv", dtype={"value": str})
    return report, frame


def _ci(x: np.ndarray, low: float = 0.0, high: float = 100.0) -> tuple[float, float]:
    # The t-interval taken on the logit of the mean rescaled to 0-1 (delta method), mapped back.
    p = (x.mean() - low) / (high - low)
    scale = stats.sem(x) / (high - low) / (p * (1 - p))
    ends = stats.t.interval(0.95, len(x) - 1, loc=special.logit(p), scale=scale)
    return tuple(low + (high - low) * special.expit(e) for e in ends)


def _intervals(report: dict) -> list[tuple[str, float, float, tuple[float, float]]]:
    """Every (section, low, high, scale) interval in a report."""
    scales = {"constructs": (1.0, 5.0), "paired_change": (-100.0, 100.0)}
    found = []

    def walk(node, section):
        if isinstance(node, dict):
            if node.get("ci_low") is not None:
                found.append((section, node["ci_low"], node["ci_high"], scales.get(section, (0.0, 100.0))))
            for value in node.values():
                walk(value, section)
        elif isinstance(node, list):
            for value in node:
                walk(value, section)

    for section, node in report.items():
        walk(node, section)
    return found


async def test_figures_equal_an_independent_computation(cohort):
    report, long = cohort
    assert report["knowledge"]["items"] == CORE and "aoc-age" in CORE
    knowledge = (long[long["item_id"].isin(CORE)].groupby(["pseudonym", "wave"])["score"].mean() * 100).unstack()
    for cell in report["knowledge"]["by_wave"]:
        x = knowledge[cell["wave"]].dropna().to_numpy()
        assert cell["n"] == len(x)
        assert cell["mean"] == pytest.approx(x.mean())
        assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(_ci(x))

    for row in report["paired_change"]:
        both = knowledge[[row["from"], row["to"]]].dropna()
        d = (both[row["to"]] - both[row["from"]]).to_numpy()
        assert row["n"] == len(d) and row["mean_diff"] == pytest.approx(d.mean())
        with _quiet():
            expected = stats.wilcoxon(d, zero_method="wilcox")
        assert row["p"] == pytest.approx(expected.pvalue)
        nz = d[d != 0]
        ranks = stats.rankdata(np.abs(nz))
        assert row["rank_biserial"] == pytest.approx((ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum())
    assert [(r["from"], r["to"]) for r in report["paired_change"]] == [("pre", "post"), ("post", "3m"), ("post", "6m")]

    responded = long.groupby("wave")["pseudonym"].nunique()
    for row in report["response"]:
        assert row["responded"] == responded[row["wave"]]
        assert row["rate_attendance"] == pytest.approx(100 * responded[row["wave"]] / 45)

    per_item = long[long["score"].notna()].groupby(["item_id", "wave"])["score"]
    for item in report["items"]:
        for cell in item["by_wave"]:
            assert cell["pct_correct"] == pytest.approx(
                100 * per_item.get_group((item["item_id"], cell["wave"])).mean()
            )
    assert report["faded_most"][0]["age_of_consent"]

    likert = long[long["construct"].notna() & long["score"].notna()]
    means = likert.groupby(["construct", "wave", "pseudonym"])["score"].mean()
    for construct in report["constructs"]:
        for cell in construct["by_wave"]:
            x = means.loc[(construct["construct"], cell["wave"])].to_numpy()
            assert cell["n"] == len(x) and cell["mean"] == pytest.approx(x.mean())
            assert cell["ci_low"] == pytest.approx(_ci(x, 1.0, 5.0)[0])

    for item in report["items"]:  # Wilson: (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n)
        for cell in item["by_wave"]:
            n, p, z = cell["n"], cell["pct_correct"] / 100, stats.norm.ppf(0.975)
            centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(
                (100 * (centre - half) / (1 + z * z / n), 100 * (centre + half) / (1 + z * z / n))
            )

    asked_yes_no = [i.id for i in _QUIZ.items if i.kind == "yes_no"]
    yes_no = long[long["item_id"].isin(asked_yes_no) & long["value"].isin(["yes", "no"])]
    for item in report["practice"]:
        for cell in item["by_wave"]:
            answers = yes_no[(yes_no["item_id"] == item["item_id"]) & (yes_no["wave"] == cell["wave"])]["value"]
            assert cell["n"] == len(answers) and cell["pct_yes"] == pytest.approx(100 * (answers == "yes").mean())

    # Attrition: every 6m check-in in the synthetic cohort is over (answered or expired).
    post = knowledge["post"].dropna()
    at_6m = set(long.loc[long["wave"] == "6m", "pseudonym"])
    stayed, dropped = post[post.index.isin(at_6m)], post[~post.index.isin(at_6m)]
    a = report["attrition"]
    assert (a["stayed"]["n"], a["dropped"]["n"]) == (len(stayed), len(dropped))
    assert a["p"] == pytest.approx(stats.mannwhitneyu(stayed, dropped, alternative="two-sided").pvalue)

    roles = long.drop_duplicates("pseudonym").set_index("pseudonym")["role"]
    by_role = knowledge.join(roles)
    for group in report["breakdowns"]["role"]:
        for cell in group["by_wave"]:
            x = by_role.loc[by_role["role"] == group["group"], cell["wave"]].dropna()
            if len(x) < 5 or cell.get("complementary"):  # a complement hides a small group elsewhere
                assert cell["suppressed"] and cell["mean"] is None
            else:
                assert cell["n"] == len(x) and cell["mean"] == pytest.approx(x.mean())


class _quiet:
    """Silence scipy's normal-approximation warnings, as the report does."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@pytest.fixture
async def small_groups(sessions, now):
    """Nine people answer post (4 police officers, 5 nurses); only the 4 police officers answer 3m."""
    rng = random.Random(5)
    async with sessions() as session, session.begin():
        course = await a_course(session, now, code="SMALL", delivered_on=date(2025, 6, 2), attendance=9)
        quiz = QuizSet.from_definition(course.quiz_set.definition)
        for index in range(9):
            enrolment = await an_enrolment(session, course, 8_880_000_000 + index, now)
            enrolment.role = "police officer" if index < 4 else "nurse"
            await answer_wave(session, enrolment, quiz, "post", 0.8, rng)
            if index < 4:
                await answer_wave(session, enrolment, quiz, "3m", 0.7, rng)
    async with sessions() as session:
        return await build_report(session, ["SMALL"], SETTINGS)


async def test_a_group_of_four_is_suppressed_everywhere_and_five_is_shown(small_groups, tmp_path):
    report = small_groups
    roles = {g["group"]: {c["wave"]: c for c in g["by_wave"]} for g in report["breakdowns"]["role"]}
    assert roles["police officer"]["post"] == {
        "wave": "post",
        "n": None,
        "mean": None,
        "sd": None,
        "ci_low": None,
        "ci_high": None,
        "suppressed": True,
    }
    # The nurses are withheld too: shown, they and the total (9) would give the police officers' n and mean.
    assert roles["nurse"]["post"]["complementary"] and roles["nurse"]["post"]["mean"] is None
    knowledge = {c["wave"]: c for c in report["knowledge"]["by_wave"]}
    assert knowledge["3m"]["suppressed"] and knowledge["3m"]["mean"] is None
    assert knowledge["post"]["n"] == 9
    paired = {(p["from"], p["to"]): p for p in report["paired_change"]}
    assert paired[("post", "3m")]["suppressed"] and paired[("post", "3m")]["p"] is None
    assert all(c["suppressed"] for i in report["items"] for c in i["by_wave"] if c["wave"] == "3m")
    assert all(c["suppressed"] for i in report["practice"] for c in i["by_wave"])
    assert all(c["suppressed"] for c in (x for k in report["constructs"] for x in k["by_wave"]) if c["wave"] == "3m")
    assert all(t["suppressed"] and t["answers"] is None for t in report["free_text"] if t["wave"] == "3m")
    assert report["attrition"]["suppressed"]
    response = {r["wave"]: r for r in report["response"]}
    assert response["3m"]["suppressed"] and response["3m"]["responded"] is None

    paths = write_report(report, tmp_path)
    html = paths["html"].read_text()
    assert 'id="knowledge-post"' in html and 'id="knowledge-3m"' not in html
    assert not re.search(r'id="(item|construct|practice)-[^"]*-3m"', html)
    assert 'id="paired-post-3m"' not in html and 'id="response-rate_enrolled-3m"' not in html
    row = re.search(r"<tr><td>police officer</td>(.*?)</tr>", html).group(1)
    assert "fewer than 5" in row and "n=" not in row
    assert re.search(r"<tr><td>nurse</td><td[^>]*>withheld</td>", html)
    saved = json.loads(paths["json"].read_text())
    assert saved == json.loads(json.dumps(report))
    assert "fewer than 5" in "".join(page.extract_text() for page in PdfReader(paths["pdf"]).pages)


async def test_unknown_course_and_empty_selection_are_clear(sessions, now):
    from surveys.reporting.codebook import SelectionError

    async with sessions() as session, session.begin():
        await a_course(session, now, code="EMPTY")
    async with sessions() as session:
        with pytest.raises(SelectionError, match="no course with code NOPE"):
            await build_report(session, ["NOPE"], SETTINGS)
        with pytest.raises(SelectionError, match="no answers yet"):
            await build_report(session, ["EMPTY"], SETTINGS)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
document.body.setAttribute("data-fits", String(document.documentElement.scrollWidth <= window.innerWidth));
document.body.setAttribute("data-charts", String(document.querySelectorAll("figure.chart svg").length));
document.body.setAttribute("data-tables", String(document.querySelectorAll("table").length));
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="chromium is not installed")
async def test_html_renders_in_chromium_without_overflow(cohort, tmp_path):
    report, _ = cohort
    paths = write_report(report, tmp_path / "out")
    probe = tmp_path / "probe.html"
    probe.write_text(paths["html"].read_text().replace("</body>", PROBE))
    for width in (390, 794):  # a phone, and A4 at 96 dpi
        dom = subprocess.run(
            [
                CHROMIUM or "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--window-size={width},1200",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        assert 'data-fits="true"' in dom, f"page overflows at {width}px"
        assert 'data-charts="6"' in dom
        assert int(re.search(r'data-tables="(\d+)"', dom).group(1)) >= 10


async def test_pdf_opens_and_holds_the_charts(cohort, tmp_path):
    report, _ = cohort
    paths = write_report(report, tmp_path)
    pdf = PdfReader(paths["pdf"])
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Knowledge score per wave" in text and "Paired change" in text
    assert sum(len(page.images) for page in pdf.pages) == 6


def _pdf_text_and_images(path) -> tuple[str, int]:
    pdf = PdfReader(path)
    return "".join(page.extract_text() for page in pdf.pages), sum(len(page.images) for page in pdf.pages)


async def test_a_score_the_fast_read_cannot_carry_is_read_as_stored(sessions, now, tmp_path):
    # Scores are whole numbers 0-5 as the bot stores them; one edited by hand (2.5) must still count exactly.
    async with sessions() as session, session.begin():
        course = await a_course(session, now, delivered_on=date(2025, 6, 2), waves=WAVES, attendance=45)
        await populate(session, course, 20, seed=4, now=now)
        likert = [i.id for i in _QUIZ.items if i.kind == "likert" and i.construct_name == "victim_blaming"]
        await session.execute(
            update(Answer)
            .where(Answer.item_id == likert[0], Answer.score.is_not(None))
            .values(score=Answer.score - 0.5)
        )
    async with sessions() as session:
        report = await build_report(session, None, SETTINGS)
        await export(session, None, "csv", "long", tmp_path / "long.csv")
    long = pd.read_csv(tmp_path / "long.csv", dtype={"value": str})
    assert (long["score"] % 1 == 0.5).any()
    rows = long[(long["construct"] == "victim_blaming") & long["score"].notna()]
    expected = rows.groupby(["wave", "pseudonym"])["score"].mean().groupby(level="wave").mean()
    cells = next(c for c in report["constructs"] if c["construct"] == "victim_blaming")["by_wave"]
    assert {c["wave"]: pytest.approx(c["mean"]) for c in cells} == expected.to_dict()


async def test_followup_report_writes_the_three_files(database_url, cohort, tmp_path):
    from click.testing import CliRunner

    from bot.commands.report import cli as report_cli

    env = {"FOLLOWUP_DATABASE_URL": database_url}
    # The command runs its own event loop, so it runs in a thread beside the test's loop.
    done = await asyncio.to_thread(CliRunner().invoke, report_cli, ["--out", str(tmp_path / "out")], env=env)
    assert done.exit_code == 0, done.output
    assert _pdf_text_and_images(tmp_path / "out" / "report.pdf")[1] == 6
    assert json.loads((tmp_path / "out" / "report.json").read_text())["knowledge"]["by_wave"]
    bad = await asyncio.to_thread(
        CliRunner().invoke, report_cli, ["--course", "NOPE", "--out", str(tmp_path / "x")], env=env
    )
    assert bad.exit_code == 1 and "no course with code NOPE" in bad.output


async def test_two_versions_of_a_quiz_set_list_each_core_item_once(sessions, now):
    from surveys.store.catalog import import_quiz_set

    async with sessions() as session, session.begin():
        first = await a_course(session, now, code="V-ONE", delivered_on=date(2025, 6, 2), waves=WAVES)
        await populate(session, first, 6, seed=11, now=now)
        await import_quiz_set(session, _QUIZ.model_copy(update={"title": _QUIZ.title + " (revised)"}), now)
        second = await a_course(session, now, code="V-TWO", delivered_on=date(2025, 6, 9), waves=WAVES)
        await populate(session, second, 6, seed=12, now=now)
        assert first.quiz_set_id != second.quiz_set_id
    async with sessions() as session:
        report = await build_report(session, None, SETTINGS)
    assert report["knowledge"]["items"] == CORE
    assert report["methods"]["knowledge_items"] == CORE
    assert len(report["items"]) == len({i["item_id"] for i in report["items"]})


async def test_the_report_says_exactly_what_free_text_is_scrubbed_of(small_groups, tmp_path):
    from surveys.domain.scrub import SCRUBBED

    html = write_report(small_groups, tmp_path)["html"].read_text()
    assert "scrubbed of names" not in html.lower()
    for description in SCRUBBED:
        assert description in html
    assert "names and other identifying details are not removed" in html


async def test_every_interval_lies_within_its_scale_even_for_five_far_apart_people(sessions, now, cohort):
    # Four people who know nearly everything and one who knows nearly nothing: the t-interval went past 100.
    rng = random.Random(8)
    async with sessions() as session, session.begin():
        course = await a_course(session, now, code="SPREAD", delivered_on=date(2025, 6, 2), attendance=5)
        quiz = QuizSet.from_definition(course.quiz_set.definition)
        for index in range(5):
            enrolment = await an_enrolment(session, course, 8_890_000_000 + index, now)
            await answer_wave(session, enrolment, quiz, "post", 1.0 if index else 0.0, rng)
    async with sessions() as session:
        spread = await build_report(session, ["SPREAD"], SETTINGS)
    post = next(c for c in spread["knowledge"]["by_wave"] if c["wave"] == "post")
    assert post["n"] == 5 and post["sd"] > 30
    for report in (spread, cohort[0]):
        found = _intervals(report)
        assert found
        for section, low, high, (bottom, top) in found:
            assert bottom <= low <= high <= top, (section, low, high)


TEAM = [("youth worker", "youth services")] * 3 + [("teacher", "education")] * 6 + [("nurse", "health")] * 5


@pytest.fixture
async def a_small_team(sessions, now):
    """Fourteen people answer post: three youth workers (the only ones in youth services), six teachers, five nurses."""
    rng = random.Random(6)
    async with sessions() as session, session.begin():
        course = await a_course(session, now, code="TEAM", delivered_on=date(2025, 6, 2), attendance=14)
        quiz = QuizSet.from_definition(course.quiz_set.definition)
        for index, (role, agency) in enumerate(TEAM):
            enrolment = await an_enrolment(session, course, 8_870_000_000 + index, now)
            enrolment.role, enrolment.agency = role, agency
            await answer_wave(session, enrolment, quiz, "post", rng.uniform(0.5, 0.95), rng)
    async with sessions() as session:
        return await build_report(session, ["TEAM"], SETTINGS)


def _in_span(vector: list[int], rows: list[list[int]]) -> bool:
    return bool(rows) and np.linalg.matrix_rank(np.array([*rows, vector])) == np.linalg.matrix_rank(np.array(rows))


async def test_a_withheld_group_cannot_be_worked_out_from_the_published_figures(a_small_team, tmp_path):
    saved = json.loads(write_report(a_small_team, tmp_path)["json"].read_text())
    post = next(c for c in saved["knowledge"]["by_wave"] if c["wave"] == "post")
    assert post["n"] == 14
    tables = {
        name: {g["group"]: next(c for c in g["by_wave"] if c["wave"] == "post") for g in groups}
        for name, groups in saved["breakdowns"].items()
        if name in ("role", "agency")
    }
    assert tables["role"]["youth worker"]["n"] is None and tables["agency"]["youth services"]["n"] is None
    for cells in tables.values():
        hidden = [g for g, c in cells.items() if c["n"] is None]
        # Total minus the groups shown: never one group's n, nor fewer than five people's.
        assert len(hidden) != 1
        assert post["n"] - sum(c["n"] for c in cells.values() if c["n"] is not None) >= 5
        # ... nor their mean: the shown n × mean sums leave the hidden groups' total score, never one group's.
    # Across the two breakdowns: the youth workers are no sum or difference of shown figures.
    atoms = list(dict.fromkeys(TEAM))
    shown = [[1] * len(atoms)] + [
        [int(atom[position] == group) for atom in atoms]
        for position, name in enumerate(("role", "agency"))
        for group, cell in tables[name].items()
        if cell["n"]
    ]
    assert not _in_span([int(a[0] == "youth worker") for a in atoms], shown)
    assert "withheld" in write_report(a_small_team, tmp_path / "again")["html"].read_text()


async def test_the_few_who_dropped_out_cannot_be_worked_out_from_those_who_stayed(sessions, now):
    from tests.support.synthetic import _store_wave as store_wave
    from tests.support.synthetic import wave_offset

    rng = random.Random(9)
    async with sessions() as session, session.begin():
        course = await a_course(session, now, code="STAY", delivered_on=date(2025, 6, 2), waves=("post", "3m"))
        quiz = QuizSet.from_definition(course.quiz_set.definition)
        for index in range(8):
            enrolment = await an_enrolment(session, course, 8_860_000_000 + index, now)
            await answer_wave(session, enrolment, quiz, "post", rng.uniform(0.5, 0.95), rng)
            if index < 6:
                await answer_wave(session, enrolment, quiz, "3m", 0.7, rng)
            else:  # two let the 3m check-in close unanswered
                due = datetime.combine(course.delivered_on, time(15, 0), tzinfo=UTC) + wave_offset("3m")
                await store_wave(session, enrolment, "3m", due, [], CheckInState.EXPIRED)
    async with sessions() as session:
        report = await build_report(session, ["STAY"], SETTINGS)
    post = next(c for c in report["knowledge"]["by_wave"] if c["wave"] == "post")
    attrition = report["attrition"]
    assert attrition["dropped"]["suppressed"]
    # Post total minus those who stayed would be the two who dropped out, n and mean.
    assert post["n"] is None or attrition["stayed"]["n"] is None


async def test_how_many_left_part_way_cannot_be_worked_out_from_answered_minus_completed(sessions, now):
    from tests.support.synthetic import _store_wave as store_wave

    rng = random.Random(4)
    async with sessions() as session, session.begin():
        course = await a_course(session, now, code="PART", delivered_on=date(2025, 6, 2))
        quiz = QuizSet.from_definition(course.quiz_set.definition)
        items = quiz.items_for("post")
        for index in range(9):
            enrolment = await an_enrolment(session, course, 8_850_000_000 + index, now)
            if index < 7:
                await answer_wave(session, enrolment, quiz, "post", 0.8, rng)
            else:  # two stop after three questions
                values = [(item, item.correct_value or "1") for item in items[:3]]
                await store_wave(session, enrolment, "post", now, values, CheckInState.IN_PROGRESS)
    async with sessions() as session:
        report = await build_report(session, ["PART"], SETTINGS)
    post = next(r for r in report["response"] if r["wave"] == "post")
    assert post["responded"] == 9
    assert post["completed"] is None and post["completed_complementary"]  # 9 − 7 would be the two who stopped
