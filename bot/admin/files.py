"""Files for evaluators: /report (HTML and PDF) and /export (the long CSV and its codebook)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot.admin.roles import Actor
from bot.admin.service import Admin
from bot.admin.wording import admin_line, admin_reply, chat_wording
from bot.replies import Document, Reply
from surveys.reporting.codebook import SelectionError
from surveys.reporting.export import ExportError, codebook_path, export
from surveys.reporting.period import Period
from surveys.reporting.report import build_report, write_report

# Charts are drawn under matplotlib.rc_context, which swaps the process-wide rcParams: one report at a time.
_RENDERING = asyncio.Lock()


async def report(admin: Admin, actor: Actor, code: str) -> Reply:
    """report.html and report.pdf for one course (small groups suppressed as in the CLI)."""
    caption = admin_line("report", code=code.upper(), k=admin.settings.suppress_below)
    return await _report(admin, actor, [code], None, caption, code.lower())


async def annual_report(admin: Admin, actor: Actor, period: Period, codes: list[str]) -> Reply:
    """The annual report: the courses delivered in the period (of those named), as the CLI's --from/--to."""
    caption = admin_line(
        "annual_report", period=period.label, codes=", ".join(c.upper() for c in codes), k=admin.settings.suppress_below
    )
    return await _report(admin, actor, codes or None, period, caption, f"annual-{period.start}-{period.end}")


async def _report(
    admin: Admin, actor: Actor, codes: list[str] | None, period: Period | None, caption: str, stem: str
) -> Reply:
    try:
        async with admin.sessions() as session, session.begin():
            built = await build_report(
                session, codes, admin.settings, now=admin.clock(), actor=actor.audited(admin.settings), period=period
            )
    except SelectionError as exc:
        return admin_reply("nothing_yet", problem=chat_wording(str(exc)))
    with tempfile.TemporaryDirectory(prefix="followup-report-") as folder:
        async with _RENDERING:
            # Charts and the PDF take seconds of CPU: off the event loop, so other chats carry on.
            paths = await asyncio.to_thread(write_report, built, Path(folder))
        files = tuple(
            Document(paths[kind].read_bytes(), f"{stem}-report.{kind}", caption if kind == "html" else "")
            for kind in ("html", "pdf")
        )
    return Reply(files)


async def export_answers(admin: Admin, actor: Actor, code: str) -> Reply:
    """The long CSV of answers (pseudonyms only) and its codebook."""
    with tempfile.TemporaryDirectory(prefix="followup-export-") as folder:
        out = Path(folder) / f"{code.lower()}-answers.csv"
        try:
            async with admin.sessions() as session, session.begin():
                await export(
                    session, [code], "csv", "long", out, actor=actor.audited(admin.settings), now=admin.clock()
                )
        except (SelectionError, ExportError) as exc:
            return admin_reply("nothing_yet", problem=chat_wording(str(exc)))
        book = codebook_path(out)
        caption = admin_line("export", code=code.upper())
        return Reply((Document(out.read_bytes(), out.name, caption), Document(book.read_bytes(), book.name)))
