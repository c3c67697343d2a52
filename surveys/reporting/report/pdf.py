"""report.pdf with fpdf2: the same sections and charts as the HTML, on A4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
from fpdf import FPDF

from surveys.reporting.report.tables import WITHHELD

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
PDF_LIST_LIMIT = 200  # free-text answers listed per question and wave in the PDF (the most frequent)
FONT = "DejaVu"  # ships with matplotlib, and covers – → ★ which the core PDF fonts do not


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(110)
        self.cell(0, 6, f"followup impact report · page {self.page_no()}", align="C")


def write_pdf(report: dict[str, Any], parts: list[dict[str, Any]], charts: dict[str, Any], out: Path) -> None:
    """Write the PDF: title, then each section's chart (raster), tables and notes."""
    pdf = _Pdf(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
    pdf.set_title(report["title"])
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    _para(pdf, 8, report["title"])
    pdf.set_font(FONT, "", 8)
    _para(
        pdf,
        5,
        f"Generated {report['generated_at']}. Figures about fewer than {report['suppress_below']} people are withheld.",
    )
    marker = report["suppressed_marker"]
    for part in parts:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 12)
        pdf.set_text_color(31, 78, 121)
        _para(pdf, 7, part["title"])
        pdf.set_text_color(0)
        chart = charts.get(part.get("chart") or "")
        if chart is not None:
            pdf.image(chart, w=pdf.epw)
        for table in part.get("tables") or []:
            _table(pdf, table, marker)
        for lst in part.get("lists") or []:
            pdf.set_font(FONT, "B", 9)
            _para(pdf, 5, lst["title"])
            pdf.set_font(FONT, "", 8)
            items = lst["items"]
            shown = items[:PDF_LIST_LIMIT] if lst.get("long") else items
            for item in shown:
                _para(pdf, 4.5, f"• {item}")
            if len(shown) < len(items):
                pdf.set_font(FONT, "I", 8)
                _para(
                    pdf,
                    4.5,
                    f"… and {len(items) - len(shown):,} more different answers: the full list "
                    "is in report.html and report.json (and every answer in the export).",
                )
        pdf.set_font(FONT, "I", 7.5)
        for note in part.get("notes") or []:
            _para(pdf, 4, note)
            pdf.ln(1)
    pdf.output(str(out))


def _para(pdf: FPDF, height: float, text: str) -> None:
    # Back to the left margin on a new line after each paragraph (fpdf2 stays on the right otherwise).
    if "\n" not in text and pdf.get_string_width(text) <= pdf.epw - 2 * pdf.c_margin:
        # One line: cell is ~10× cheaper than multi_cell, which thousands of free-text answers feel.
        pdf.cell(0, height, text, new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


HEADING_FILL = (238, 243, 248)
MARKER_COLOUR = (138, 75, 0)
TABLE_FONT_SIZE, LINE_HEIGHT, PADDING = 7, 4, 1


def _table(pdf: FPDF, table: dict[str, Any], marker: str) -> None:
    """A grid of equal-width columns: bold shaded headings (repeated after a page break), the
    suppressed marker in orange italics, text left-aligned, vertically centred and wrapped only when it must be.

    Drawn with rect + cell: fpdf2's table() lays out every cell through multi_cell's line
    breaker (~1.4 ms a cell); here a cell that fits on one line costs one width lookup.
    """
    headers = [str(h) for h in table["headers"]]
    width = pdf.epw / len(headers)
    inner = width - 2 * PADDING
    heading = _row(pdf, headers, "B", inner)
    rows = [_row(pdf, [str(v) for v in row], None, inner, marker) for row in table["rows"]]
    # Never leave the headings alone at the foot of a page.
    if pdf.will_page_break(heading[0] + (rows[0][0] if rows else 0)):
        pdf.add_page()
    _draw_row(pdf, heading, width, fill=True)
    for row in rows:
        if pdf.will_page_break(row[0]):
            pdf.add_page()
            _draw_row(pdf, heading, width, fill=True)
        _draw_row(pdf, row, width, fill=False)
    pdf.set_font(FONT, "", TABLE_FONT_SIZE)
    pdf.set_text_color(0)
    pdf.set_x(pdf.l_margin)
    pdf.ln(2)


def _row(
    pdf: FPDF, values: list[str], style: str | None, inner: float, marker: str | None = None
) -> tuple[float, list[tuple[str, list[str]]]]:
    """(height, [(font style, lines)]) of one table row."""
    cells = []
    for value in values:
        font = style if style is not None else ("I" if value in (marker, WITHHELD) else "")
        pdf.set_font(FONT, font, TABLE_FONT_SIZE)
        if "\n" not in value and pdf.get_string_width(value) <= inner:
            lines = [value]
        else:
            lines = pdf.multi_cell(inner, LINE_HEIGHT, value, dry_run=True, output="LINES", padding=0)
        cells.append((font, lines))
    return max(len(lines) for _, lines in cells) * LINE_HEIGHT + 2 * PADDING, cells


def _draw_row(pdf: FPDF, row: tuple[float, list[tuple[str, list[str]]]], width: float, fill: bool) -> None:
    height, cells = row
    y = pdf.y
    if fill:
        pdf.set_fill_color(*HEADING_FILL)
    for n, (font, lines) in enumerate(cells):
        x = pdf.l_margin + n * width
        pdf.rect(x, y, width, height, style="DF" if fill else "D")
        pdf.set_font(FONT, font, TABLE_FONT_SIZE)
        if font == "I" and not fill:
            pdf.set_text_color(*MARKER_COLOUR)
        else:
            pdf.set_text_color(0)
        top = y + (height - len(lines) * LINE_HEIGHT) / 2
        for k, line in enumerate(lines):
            pdf.set_xy(x + PADDING, top + k * LINE_HEIGHT)
            pdf.cell(width - 2 * PADDING, LINE_HEIGHT, line)
    pdf.set_xy(pdf.l_margin, y + height)
