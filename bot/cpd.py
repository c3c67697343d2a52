"""The CPD record: a PDF of one practitioner's course, scores over time, commitments and reflection prompts.

Made in memory when asked (fpdf2, as the report's PDF: pure Python, no browser, a few tens of
milliseconds) and never stored: not on disk, not in the database. A name typed for it goes
into this file's bytes only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import label, render_text
from surveys import language
from surveys.domain import levels, progress, waves
from surveys.domain.quiz_text import RenderContext
from surveys.domain.quizset import QuizSet
from surveys.language import say_date
from surveys.reporting.report.pdf import FONT, FONT_DIR
from surveys.store.own_progress import chat_answers
from surveys.texts import wave_label

# fontTools' subsetter logs, at INFO, the glyphs each font keeps: the letters of a typed name. Never.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
# fpdf2 warns, naming them, about characters its font lacks (a name in another script): never log them either.
logging.getLogger("fpdf").setLevel(logging.ERROR)

MAX_NAME = 80
"""Longest name taken for the record (one line on the page)."""
RIGHT, WRONG, NOT_ASKED = "✓", "✗", "–"


@dataclass(frozen=True)
class CourseRecord:
    """What the record says about one course: the course, their scores and answers over time, their commitments."""

    title: str
    delivered_on: date
    level: int
    waves: tuple[str, ...]
    scores: list[progress.WaveScore]
    covered: list[progress.Covered]
    standings: list[progress.Standing]


async def course_records(session: AsyncSession, chat_id: int) -> list[CourseRecord]:
    """Each course the chat takes part in, as the record shows it; empty when none."""
    out = []
    for own in await chat_answers(session, chat_id):
        course = own.course
        quiz = QuizSet.from_definition(course.quiz_set.definition)
        last = max(own.by_wave, key=waves.order_key, default=course.waves[0])
        context = RenderContext(course.title, last, waves.months(last))
        spoken = quiz.in_language(language.current())  # the items' words in the person's language
        scores, covered = progress.knowledge_over_time(spoken, own.by_wave, context)
        answered = tuple(w for w in course.waves if w in own.by_wave)
        out.append(
            CourseRecord(
                course.title,
                course.delivered_on,
                course.level,
                answered,
                scores,
                covered,
                progress.standings(quiz, own.by_wave),
            )
        )
    return out


def name_problem(text: str) -> bool:
    """Whether typed text cannot be a name on the record (empty, several lines, too long)."""
    name = text.strip()
    return not name or "\n" in name or len(name) > MAX_NAME


def _words(kind: str, **context: object) -> str:
    return render_text("cpd_record.txt", kind=kind, **context)


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(110)
        self.cell(0, 6, f"{_words('footer')} · page {self.page_no()}", align="C")


def record_pdf(records: list[CourseRecord], made_on: date, name: str | None = None) -> bytes:
    """The record as PDF bytes (nothing written anywhere); `name` printed on it when given."""
    pdf = _Pdf(format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    # Two faces, not three: reading a font is most of the ~0.2 s a record takes.
    for style, file in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        pdf.add_font(FONT, style, str(FONT_DIR / file))
    pdf.set_title(_words("title"))
    pdf.add_page()
    _heading(pdf, _words("title"), 16)
    if name:
        _para(pdf, _words("name", person=name), size=11, style="B")
    _para(pdf, _words("made", made_on=say_date(made_on)), size=8)
    for record in records:
        _course(pdf, record)
    _heading(pdf, _words("reflection_title"), 13)
    _para(pdf, _words("reflection_intro"), size=9)
    for prompt in ("learnt", "practice", "discussion"):
        _heading(pdf, _words(f"{prompt}_title"), 11)
        _para(pdf, _words(f"{prompt}_prompt"), size=9)
        _lines(pdf, 5)
    return bytes(pdf.output())


def _course(pdf: FPDF, record: CourseRecord) -> None:
    _heading(pdf, record.title, 13)
    _para(
        pdf,
        _words(
            "course",
            delivered_on=say_date(record.delivered_on),
            level=record.level,
            level_range=levels.RANGE_TEXT,
        ),
        size=9,
    )
    _heading(pdf, _words("covered_title"), 11)
    if not record.scores:
        _para(pdf, _words("no_scores"), size=9)
    for score in record.scores:
        _para(
            pdf,
            _words(
                "score",
                wave=wave_label(score.wave),
                correct=score.correct,
                answered=score.answered,
                percent=f"{score.percent:.0f}",
            ),
            size=9,
        )
    if record.covered:
        shown = [w for w in record.waves if any(w in c.right for c in record.covered)]
        pdf.ln(1)
        _table(
            pdf,
            [_words("question"), *(_words("column", before=w == waves.PRE, months=waves.months(w)) for w in shown)],
            [[c.text, *(_mark(c.right.get(w)) for w in shown)] for c in record.covered],
        )
    _heading(pdf, _words("commitments_title"), 11)
    if not record.standings:
        _para(pdf, _words("no_commitments"), size=9)
    for n, standing in enumerate(record.standings, start=1):
        _para(pdf, f"{n}. «{standing.text}»", size=9, style="B")
        _para(pdf, _words("made_at", wave=wave_label(standing.made_at)), size=8)
        for review in standing.reviews:
            _para(
                pdf,
                _words(
                    "review",
                    wave=wave_label(review.wave),
                    status=label(f"commitment.{review.status}"),
                    barrier=review.barrier,
                ),
                size=8,
            )
        if not standing.reviews:
            _para(pdf, _words("not_reviewed"), size=8)


def _mark(right: bool | None) -> str:
    return NOT_ASKED if right is None else RIGHT if right else WRONG


def _heading(pdf: FPDF, text: str, size: float) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", size)
    pdf.set_text_color(31, 78, 121)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0)
    pdf.ln(1)


def _para(pdf: FPDF, text: str, *, size: float, style: str = "") -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(0.5)


def _lines(pdf: FPDF, count: int) -> None:
    """Ruled lines to write on (the record is printed or filled in on screen)."""
    pdf.set_draw_color(190)
    for _ in range(count):
        pdf.ln(7)
        pdf.line(pdf.l_margin, pdf.y, pdf.w - pdf.r_margin, pdf.y)
    pdf.set_draw_color(0)
    pdf.ln(3)


def _table(pdf: FPDF, headers: list[str], rows: list[list[str]]) -> None:
    pdf.set_font(FONT, "", 8)
    first = pdf.epw - 16 * (len(headers) - 1)
    widths = (first, *([16] * (len(headers) - 1)))
    with pdf.table(col_widths=widths, text_align=("LEFT", *(["CENTER"] * (len(headers) - 1))), line_height=4.5) as t:
        t.row(headers)
        for row in rows:
            t.row(row)
    pdf.ln(2)
