"""Migrations: one head, upgrade from empty on both databases, models match the DDL, down and up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from surveys.store.migrate import alembic_config, upgrade
from surveys.store.models import Base
from tests.conftest import BACKENDS, POSTGRES_SERVER, _admin


def test_there_is_exactly_one_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads: {heads}; merge them"


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """A brand-new empty database (not the shared test one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"followup_mig_{tmp_path.name[-8:].replace('-', '_').lower()}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable under CI: {exc!r}")
        pytest.skip(f"PostgreSQL unreachable: {exc!r}")
    yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _diff(url: str) -> list:
    # Inspect through the app's own async engine, running the comparison in its sync shim.
    async def run():
        from surveys.store.db import make_engine

        engine = make_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        await engine.dispose()
        return diff, tables

    return asyncio.run(run())


def test_upgrade_from_empty_creates_exactly_what_the_models_describe(empty_database):
    upgrade(empty_database)
    diff, tables = _diff(empty_database)
    assert diff == []
    assert {"answer", "check_in", "contact", "course", "enrolment", "invite", "quiz_set", "audit_event"} <= set(tables)


def test_every_migration_can_be_undone_and_redone(empty_database):
    config = alembic_config(empty_database)
    upgrade(empty_database)
    command.downgrade(config, "base")
    _, tables = _diff(empty_database)
    assert set(tables) <= {"alembic_version"}
    upgrade(empty_database)
    diff, _ = _diff(empty_database)
    assert diff == []


def _followup(url: str, *args: str):
    from click.testing import CliRunner

    from bot.cli import main

    return CliRunner().invoke(main, list(args), env={"FOLLOWUP_DATABASE_URL": url})


@pytest.mark.parametrize("command", [("course", "list"), ("quiz", "list"), ("audit",), ("purge",)])
def test_a_command_on_a_database_never_upgraded_says_to_run_db_upgrade(empty_database, command):
    result = _followup(empty_database, *command)
    assert result.exit_code == 1
    assert result.output == "Error: the database is not set up: run `followup db upgrade`\n"
    if empty_database.startswith("sqlite"):
        assert not (Path(empty_database.removeprefix("sqlite:///"))).exists()  # no empty file left behind
    assert _followup(empty_database, "db", "upgrade").exit_code == 0
    assert _followup(empty_database, *command).exit_code == 0


@pytest.mark.parametrize("url", ["mysql://root@localhost/followup", "followup.db"])
def test_an_unsupported_database_url_names_the_supported_ones(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _followup(url, "course", "list")
    assert result.exit_code == 1
    assert result.output == (
        "Error: bad setting: FOLLOWUP_DATABASE_URL: unsupported database URL: "
        "use sqlite:///PATH or postgresql://USER@HOST/NAME\n"
    )
