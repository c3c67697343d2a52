"""Exports: no chat id, username or name in any format; wide is one row per person × wave; SPSS labels."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import date

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.commands.export import cli as export_cli
from surveys.reporting.codebook import SelectionError
from surveys.reporting.export import codebook_path, export
from surveys.store.models import AuditEvent
from tests.support.factories import a_course
from tests.support.synthetic import populate

USERNAMES = ("zebedee_quill", "marigold_vance")
FIRST_NAMES = ("Zebedee", "Marigold")


@pytest.fixture
async def people(sessions, now):
    """A cohort whose chat ids are known, plus usernames and first names stored elsewhere in the database."""
    async with sessions() as session, session.begin():
        course = await a_course(session, now, delivered_on=date(2025, 6, 2), waves=("pre", "post", "3m", "6m"))
        cohort = await populate(session, course, 12, seed=9, now=now)
        for username, name in zip(USERNAMES, FIRST_NAMES, strict=False):
            session.add(AuditEvent(at=now, role="admin", actor="A-1", action="note", detail=f"@{username} {name}"))
    return cohort


def _bytes(path) -> bytes:
    # xlsx is a zip of XML parts: look inside every part, not at the compressed bytes.
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav"])
@pytest.mark.parametrize("shape", ["long", "wide"])
async def test_no_chat_id_username_or_name_in_any_export(sessions, people, tmp_path, fmt, shape):
    out = tmp_path / f"export.{fmt}"
    async with sessions() as session:
        rows = await export(session, None, fmt, shape, out)
    assert rows > 0
    files = [out] + ([codebook_path(out)] if fmt == "csv" else [])
    blob = b"".join(_bytes(f) for f in files)
    assert people[0].pseudonym.encode() in blob
    for person in people:
        assert str(person.chat_id).encode() not in blob
    for secret in (*USERNAMES, *FIRST_NAMES):
        assert secret.encode() not in blob and secret.encode("utf-16-le") not in blob


async def test_long_and_wide_shapes(sessions, people, tmp_path):
    async with sessions() as session:
        await export(session, ["cse-1"], "csv", "long", tmp_path / "long.csv")
        await export(session, None, "csv", "wide", tmp_path / "wide.csv")
    long = pd.read_csv(tmp_path / "long.csv", dtype=str)
    wide = pd.read_csv(tmp_path / "wide.csv", dtype={"aoc-age": str})
    assert list(long.columns) == [
        "pseudonym",
        "course",
        "level",
        "role",
        "agency",
        "wave",
        "language",
        "item_id",
        "quiz_set",
        "construct",
        "value",
        "score",
        "answered_at",
    ]
    assert long["answered_at"].str.endswith("+00:00").all()
    assert not wide.duplicated(["pseudonym", "wave"]).any()
    assert len(wide) == len(long.drop_duplicates(["pseudonym", "wave"]))
    for column in ("aoc-age", "knowledge_pct", "knowledge_core_pct", "victim_blaming", "self_efficacy"):
        assert column in wide.columns
    first = long[(long["pseudonym"] == wide.at[0, "pseudonym"]) & (long["wave"] == wide.at[0, "wave"])]
    assert wide.at[0, "aoc-age"] == first.loc[first["item_id"] == "aoc-age", "value"].iloc[0]
    codebook = pd.read_csv(codebook_path(tmp_path / "wide.csv"))
    reversed_items = set(codebook.loc[codebook["reverse"] == True, "variable"])  # noqa: E712
    assert "att-se-little-i-can-do" in reversed_items and "att-confidence-signs" not in reversed_items


async def test_spss_reads_back_with_variable_and_value_labels(sessions, people, tmp_path):
    async with sessions() as session:
        await export(session, None, "sav", "wide", tmp_path / "wide.sav")
    data, meta = pyreadstat.read_sav(str(tmp_path / "wide.sav"))
    labels = meta.column_names_to_labels
    assert labels["aoc_age"].startswith("aoc-age: What is the age of consent")
    assert meta.variable_value_labels["aoc_age"]["b"] == "16"
    assert meta.variable_value_labels["att_confidence_signs"][5.0] == "Strongly agree"
    assert data["att_confidence_signs"].dropna().between(1, 5).all()
    assert "knowledge_pct" in labels


@pytest.mark.parametrize("shape", ["long", "wide"])
async def test_spss_measure_levels_are_nominal_ordinal_or_scale_as_each_variable_is(sessions, people, tmp_path, shape):
    async with sessions() as session:
        await export(session, None, "sav", shape, tmp_path / "out.sav")
    _, meta = pyreadstat.read_sav(str(tmp_path / "out.sav"), metadataonly=True)
    measure = meta.variable_measure
    assert "unknown" not in measure.values()
    assert measure["pseudonym"] == "nominal" and measure["role"] == "nominal" and measure["level"] == "ordinal"
    if shape == "wide":
        assert measure["knowledge_core_pct"] == "scale" and measure["victim_blaming"] == "scale"
        assert measure["att_confidence_signs"] == "ordinal" and measure["aoc_age"] == "nominal"
    else:
        assert measure["score"] == "scale" and measure["value"] == "nominal"


async def test_xlsx_has_a_codebook_sheet(sessions, people, tmp_path):
    async with sessions() as session:
        await export(session, None, "xlsx", "long", tmp_path / "long.xlsx")
    book = load_workbook(io.BytesIO((tmp_path / "long.xlsx").read_bytes()), read_only=True)
    assert book.sheetnames == ["data", "codebook"]


async def test_unknown_course_is_refused(sessions, people, tmp_path):
    async with sessions() as session:
        with pytest.raises(SelectionError, match="no course with code NOPE"):
            await export(session, ["NOPE"], "csv", "long", tmp_path / "x.csv")


async def test_cli_exports_and_exits_1_on_unknown_course(database_url, people, tmp_path):
    env = {"FOLLOWUP_DATABASE_URL": database_url}
    # The command runs its own event loop, so it runs in a thread beside the test's loop.
    ok = await asyncio.to_thread(
        CliRunner().invoke,
        export_cli,
        ["--format", "csv", "--shape", "wide", "--out", str(tmp_path / "w.csv")],
        env=env,
    )
    assert ok.exit_code == 0, ok.output
    assert "Wrote" in ok.output and (tmp_path / "w_codebook.csv").exists()
    bad = await asyncio.to_thread(
        CliRunner().invoke,
        export_cli,
        ["--course", "NOPE", "--format", "csv", "--out", str(tmp_path / "x.csv")],
        env=env,
    )
    assert bad.exit_code == 1 and "no course with code NOPE" in bad.output


async def test_a_cli_export_says_its_row_count_once_and_is_audited(database_url, people, sessions, tmp_path):
    env = {"FOLLOWUP_DATABASE_URL": database_url}
    for shape in ("long", "wide"):
        result = await asyncio.to_thread(
            CliRunner().invoke,
            export_cli,
            ["--format", "csv", "--shape", shape, "--out", str(tmp_path / f"{shape}.csv")],
            env=env,
        )
        assert result.exit_code == 0, result.output
        rows = len(pd.read_csv(tmp_path / f"{shape}.csv"))
        assert result.output.count(f"{rows:,}") == 1, result.output
    async with sessions() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))).all()
    assert [(e.role, e.actor, e.target, e.detail) for e in events] == [
        ("cli", "cli", "all courses", "csv long"),
        ("cli", "cli", "all courses", "csv wide"),
    ]
