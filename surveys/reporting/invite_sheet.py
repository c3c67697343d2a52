"""Invite outputs for the room and for mail merge: QR code (PNG, SVG), printable HTML, CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import segno

from surveys.domain import waves as wave_grammar
from surveys.language import ENGLISH, speaking
from surveys.texts import render_text, wave_label

_DAY_PHRASES = {
    (wave_grammar.PRE,): "before today's course",
    (wave_grammar.POST,): "at the end of today's course",
    (wave_grammar.PRE, wave_grammar.POST): "before and after today's course",
}


@dataclass(frozen=True)
class InviteFiles:
    """The files written for one course."""

    sheet: Path
    png: Path
    svg: Path
    mail_merge: Path | None


def qr_code(link: str) -> segno.QRCode:
    """A QR code for a deep link; error correction M survives a projector's glare."""
    return segno.make(link, error="m", micro=False)


def qr_svg_inline(link: str) -> str:
    """The QR code as an inline <svg> element for HTML pages."""
    buffer = io.BytesIO()
    qr_code(link).save(buffer, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, nl=False)
    return buffer.getvalue().decode()


def qr_png(link: str, scale: int = 10) -> bytes:
    """The QR code as PNG bytes (for a slide, or to send in the chat)."""
    buffer = io.BytesIO()
    qr_code(link).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def check_in_times(waves: tuple[str, ...] | list[str]) -> str:
    """When the course's check-ins come: "before and after today's course, in three months and in six months"."""
    parsed = sorted((wave_grammar.parse(w) for w in waves), key=lambda w: wave_grammar.order_key(w.name))
    day = tuple(w.name for w in parsed if w.on_course_day)
    phrases = ([_DAY_PHRASES[day]] if day else []) + [w.when for w in parsed if not w.on_course_day]
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def write_invite_files(
    out: Path,
    *,
    course_code: str,
    course_title: str,
    course_date: str,
    waves: tuple[str, ...] | list[str],
    link: str,
    bot_username: str,
    attendees: list[tuple[dict[str, str], str]] | None = None,
    language: str = ENGLISH,
) -> InviteFiles:
    """Write the sheet, the QR images and (with a register) the mail-merge CSV into `out`.

    The sheet is in `language`; the Welsh one is bilingual, Welsh first, as a room in Wales needs.
    """
    out.mkdir(parents=True, exist_ok=True)
    stem = course_code.lower()
    png = out / f"{stem}-qr.png"
    svg = out / f"{stem}-qr.svg"
    png.write_bytes(qr_png(link))
    qr_code(link).save(str(svg), scale=10, border=2)
    sheet = out / f"{stem}-invite.html"
    with speaking(language):
        text = render_text(
            "invite_sheet.html",
            course_code=course_code,
            course_title=course_title,
            course_date=course_date,
            check_ins=check_in_times(waves),
            link=link,
            bot_username=bot_username,
            qr_svg=qr_svg_inline(link),
            wave_labels=[wave_label(w) for w in waves],
        )
    sheet.write_text(text, encoding="utf-8")
    mail_merge = None
    if attendees is not None:
        mail_merge = out / f"{stem}-mail-merge.csv"
        columns: list[str] = []
        for echo, _ in attendees:
            columns += [c for c in echo if c not in columns]
        with mail_merge.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow([*columns, "link"])
            for echo, personal_link in attendees:
                writer.writerow([*(echo.get(c, "") for c in columns), personal_link])
    return InviteFiles(sheet, png, svg, mail_merge)
