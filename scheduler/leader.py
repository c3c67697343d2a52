"""Who sends: one dispatch pass at a time per PostgreSQL database, by a session-level advisory lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

# "followup" in ASCII, as the bigint key of pg_try_advisory_lock: one lock per database, so two
# deployments on two databases of one server never contend.
LOCK_KEY = int.from_bytes(b"followup", "big")
# A holder that lost its session while still running (the server ended it, say) notices within
# one check; a new holder waits a little longer before taking over what the old one had claimed.
CHECK_EVERY = 1.0
SETTLE = 2.0
# Telegram counts its ~30 a second over any one second: a new holder sends nothing for this long
# after taking the lock, so the last second of the previous holder's sends and the first of its own
# never fall in one second (each process paces only its own).
QUIET = 1.0


class DispatchLock:
    """The right to send invitations and reminders, held by one process at a time, for one pass.

    Telegram's ~30 messages a second is per bot, so with several workers on one database only
    one may send in bulk. On PostgreSQL the sender holds a session-level advisory lock on a
    connection of its own for the length of its pass. The lock lives exactly as long as that
    session: a holder that dies (even by SIGKILL) lets go the moment its connection closes, and
    the next worker to tick takes over. SQLite is one process by nature: there the lock is always
    free and costs nothing.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        key: int = LOCK_KEY,
        check_every: float = CHECK_EVERY,
        settle: float = SETTLE,
        quiet: float = QUIET,
    ) -> None:
        self._engine = engine
        self._key = key
        self.check_every = check_every
        self.settle = settle
        self.quiet = quiet
        # The connection whose session holds the advisory lock (None: not held). Our own attribute.
        self._held: AsyncConnection | None = None
        # One statement at a time on the lock's connection (the pass, and its watchdog).
        self._busy = asyncio.Lock()
        self.shared = engine.dialect.name == "postgresql"

    @classmethod
    def on(cls, sessions: async_sessionmaker[AsyncSession], *, check_every: float = CHECK_EVERY) -> DispatchLock:
        """The lock on the database `sessions` connect to."""
        engine = sessions().bind  # a session not begun opens no connection
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the dispatch lock needs sessions bound to an engine")
        return cls(engine, check_every=check_every)

    async def acquire(self) -> bool:
        """Take the lock (True), or learn that another worker holds it (False). Never waits for it."""
        if not self.shared:
            return True
        async with self._busy:
            if self._held is not None:
                return True
            conn = await self._engine.connect()
            try:
                # Autocommit: the lock belongs to the session, and no transaction stays open on it.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                taken = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}))
            except BaseException:
                await _discard(conn)
                raise
            if taken:
                self._held = conn
            else:
                await conn.close()
            return taken

    async def confirm(self) -> bool:
        """Whether the lock is still ours: its session still answers. Once it does not, it is let go."""
        if not self.shared:
            return True
        async with self._busy:
            conn = self._held
            if conn is None:
                return False
            try:
                await conn.scalar(text("SELECT 1"))
            except (SQLAlchemyError, OSError):
                log.warning("the dispatch lock's database session was lost: this worker stops sending")
                self._held = None
                await _discard(conn)
                return False
            return True

    async def release(self) -> None:
        """Let go, and hand the connection back to the pool."""
        async with self._busy:
            conn, self._held = self._held, None
            if conn is None:
                return
            try:
                await conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                await conn.close()
            except (SQLAlchemyError, OSError):
                await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Drop a connection in an unknown state rather than pool it: its session, and any lock, ends."""
    with contextlib.suppress(SQLAlchemyError, OSError):
        await conn.invalidate()
    with contextlib.suppress(SQLAlchemyError, OSError):
        await conn.close()
