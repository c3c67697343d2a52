"""Quiz sets in the chat: /quizsets lists the stored versions; an officer's .yaml upload imports one."""

from __future__ import annotations

from bot.admin.roles import Actor
from bot.admin.service import Admin
from bot.admin.wording import admin_line, admin_reply, chunks, lines_reply
from bot.replies import Reply, Text
from bot.texts import render_text
from surveys.domain.quizset import QuizSetInvalid, load_quiz_set
from surveys.store.catalog import import_quiz_set, list_quiz_sets, parsed

MAX_UPLOAD = 512 * 1024  # a quiz set is a few KB; anything this big is not one


async def list_versions(admin: Admin, actor: Actor) -> Reply:
    """Stored quiz-set versions."""
    async with admin.sessions() as session, session.begin():
        versions = [
            {"ref": v.ref, "title": v.title, "item_count": len(parsed(v).items), "day": f"{v.created_at:%Y-%m-%d}"}
            for v in await list_quiz_sets(session)
        ]
        await admin.audit(session, actor, "quizset.list")
    if not versions:
        return admin_reply("no_quiz_sets")
    return Reply(tuple(Text(c) for c in chunks(render_text("admin_quiz_sets.txt", versions=versions).split("\n"))))


def refuse_upload(filename: str, size: int) -> Reply | None:
    """Why a document cannot be a quiz set (not .yaml, too big), before downloading it; None if it may be."""
    if not filename.lower().endswith((".yaml", ".yml")) or size > MAX_UPLOAD:
        return admin_reply("upload_not_yaml", limit_kb=MAX_UPLOAD // 1024)
    return None


async def upload(admin: Admin, actor: Actor, filename: str, data: bytes) -> Reply:
    """A quiz-set file: every problem with its line, or stored as a new version (or 'unchanged')."""
    if refused := refuse_upload(filename, len(data)):
        return refused
    try:
        quiz = load_quiz_set(data.decode("utf-8-sig"), filename=filename)
    except UnicodeDecodeError:
        quiz, problems = None, [f"{filename}:1:1: the file is not UTF-8 text"]
    except QuizSetInvalid as exc:
        quiz, problems = None, [str(e) for e in exc.errors]
    if quiz is None:
        await admin.audited(actor, "quizset.import", filename, outcome="invalid")
        return lines_reply([admin_line("upload_invalid", filename=filename, count=len(problems)), *problems])
    async with admin.sessions() as session, session.begin():
        result = await import_quiz_set(session, quiz, admin.clock(), actor=actor.audited(admin.settings))
        return Reply((Text(result.describe()),))
