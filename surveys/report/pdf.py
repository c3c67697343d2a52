"""report.pdf with fpdf2: the same sections and charts as the HTML, on A4."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
PDF_LIST_LIMIT = 200  # free-text answers listed per question and wave in the PDF (the most frequent)
FONT = "DejaVu"  # ships with matplotlib, and covers – → ★ which the core PDF fonts do not


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(110)
        self.cell(0, 6, f"followup impact report · page {self.page_no()}", align="C")


def write_pdf(report: dict[str, Any], parts: list[dict[str, Any]], charts: dict[str, bytes], out: Path) -> None:
    """Write the PDF: title, then each section's chart (PNG), tables and notes."""
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
    _para(pdf, 5, f"Generated {report['generated_at']}. Figures about fewer than "
                         f"{report['suppress_below']} people are withheld.")
    marker = report["suppressed_marker"]
    for part in parts:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 12)
        pdf.set_text_color(31, 78, 121)
        _para(pdf, 7, part["title"])
        pdf.set_text_color(0)
        chart = charts.get(part.get("chart") or "")
        if chart:
            pdf.image(io.BytesIO(chart), w=pdf.epw)
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
                _para(pdf, 4.5, f"… and {len(items) - len(shown):,} more different answers: the full list "
                                "is in report.html and report.json (and every answer in the export).")
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


def _table(pdf: FPDF, table: dict[str, Any], marker: str) -> None:
    pdf.set_font(FONT, "", 7)
    headings = FontFace(emphasis="BOLD", fill_color=(238, 243, 248))
    with pdf.table(headings_style=headings, line_height=4, padding=1, first_row_as_headings=True) as grid:
        grid.row([str(h) for h in table["headers"]])
        for row in table["rows"]:
            cells = grid.row()
            for value in row:
                style = FontFace(emphasis="ITALICS", color=(138, 75, 0)) if value == marker else None
                cells.cell(str(value), style=style)
    pdf.ln(2)
