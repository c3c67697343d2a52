"""Run Alembic migrations programmatically, wherever followup is installed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from surveys.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
NOT_SET_UP = "the database is not set up: run `followup db upgrade`"


class DatabaseNotReady(RuntimeError):
    """The database is missing or behind the newest migration; the message says what to run."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at migrations/, optionally at a given database."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` (default: the settings' URL) up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def current_head() -> str | None:
    """The newest revision in migrations/."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_file_missing(url: str) -> bool:
    """A SQLite URL naming a file that does not exist (connecting would create an empty one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()


async def ready_engine(url: str) -> AsyncEngine:
    """An engine on a database at the newest migration; DatabaseNotReady (and no file made) otherwise."""
    if _sqlite_file_missing(url):
        raise DatabaseNotReady(NOT_SET_UP)
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            revision = await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        where = make_url(url).render_as_string(hide_password=True)
        raise DatabaseNotReady(f"could not open the database {where}: {reason}") from None
    except BaseException:
        await engine.dispose()
        raise
    if revision != current_head():
        await engine.dispose()
        older = "the database schema is older than this version of followup: run `followup db upgrade`"
        raise DatabaseNotReady(NOT_SET_UP if revision is None else older)
    return engine
