"""Looking at courses and acting on one: /courses, /course, /invite and /end with its confirmation."""

from __future__ import annotations

from bot import callbacks
from bot.admin.roles import Actor
from bot.admin.service import Admin
from bot.admin.wording import admin_line, admin_reply, chunks, lines_reply
from bot.replies import Button, Photo, Reply, Text
from bot.texts import label, render_text
from scheduler.timetable import release_post_wave
from surveys.domain import lifecycle
from surveys.reporting.invite_sheet import qr_png
from surveys.store.courses import find_course, list_courses
from surveys.store.invites import CourseClosed, deep_link, invite_course
from surveys.store.progress import course_progress


async def list_all(admin: Admin, actor: Actor) -> Reply:
    """Every course with enrolment and answered/asked per wave."""
    async with admin.sessions() as session, session.begin():
        lines = []
        now = admin.clock()
        for course in await list_courses(session):
            progress = await course_progress(session, course)
            lines.append(
                {
                    "code": course.code,
                    "title": course.title,
                    "day": course.delivered_on,
                    "state": lifecycle.status(course, now),
                    "enrolled": progress.enrolled,
                    "attendance": course.expected_attendance,
                    "waves": "  ".join(f"{w.wave} {w.completed}/{w.asked}" for w in progress.waves),
                }
            )
        await admin.audit(session, actor, "course.list")
    if not lines:
        return admin_reply("no_courses")
    return Reply(tuple(Text(c) for c in chunks(render_text("admin_courses.txt", courses=lines).split("\n"))))


async def show(admin: Admin, actor: Actor, code: str) -> Reply:
    """One course's response rates per wave."""
    async with admin.sessions() as session, session.begin():
        course = await find_course(session, code)
        if course is None:
            return admin_reply("unknown_course", code=code)
        progress = await course_progress(session, course)
        await admin.audit(session, actor, "course.show", course.code)
    return lines_reply(progress.lines())


async def invite(admin: Admin, actor: Actor, code: str, bot_username: str) -> Reply:
    """A fresh shared link for the course and its QR code as a PNG."""
    async with admin.sessions() as session, session.begin():
        course = await find_course(session, code)
        if course is None:
            return admin_reply("unknown_course", code=code)
        try:
            issued, _ = await invite_course(session, course, admin.clock(), actor=actor.audited(admin.settings))
        except CourseClosed:
            return admin_reply("closed_course", code=course.code)
        link = deep_link(bot_username, issued.token)
        caption = admin_line("invite", title=course.title, code=course.code, link=link)
    return Reply((Photo(qr_png(link), caption),))


async def ask_end(admin: Admin, actor: Actor, code: str) -> Reply:
    """/end: confirm with a button first; nothing changes yet."""
    async with admin.sessions() as session, session.begin():
        course = await find_course(session, code)
        if course is None:
            return admin_reply("unknown_course", code=code)
        if course.ended_at is not None:
            return admin_reply("already_ended", code=course.code, on=f"{course.ended_at:%Y-%m-%d %H:%M}")
        rows = (
            (
                Button(label("admin.end", code=course.code), callbacks.encode("x", "end", course.code)),
                Button(label("admin.not_yet"), callbacks.encode("x", "keep", course.code)),
            ),
        )
        return Reply((Text(admin_line("end_confirm", code=course.code), rows),))


async def end(admin: Admin, actor: Actor, code: str) -> Reply:
    """The confirmed /end: release the post-course wave to everyone enrolled now."""
    async with admin.sessions() as session, session.begin():
        course = await find_course(session, code)
        if course is None:
            return Reply(notice=admin_line("stale"))
        if course.ended_at is not None:
            text = admin_line("already_ended", code=course.code, on=f"{course.ended_at:%Y-%m-%d %H:%M}")
            return Reply(notice=text, edit=Text(text))
        released = await release_post_wave(
            session, course, admin.clock(), admin.settings, actor=actor.audited(admin.settings)
        )
        text = admin_line("ended", code=course.code, count=released)
    return Reply(notice=text, edit=Text(text))


def keep(code: str) -> Reply:
    """ "Not yet" under /end: nothing changes."""
    text = admin_line("end_kept", code=code)
    return Reply(notice=text, edit=Text(text))
