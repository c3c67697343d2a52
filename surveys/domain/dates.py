"""Calendar dates as officers type them (the CLI, the chat and the CSV files they upload)."""

from __future__ import annotations

from datetime import date, datetime

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
DATE_HELP = "YYYY-MM-DD (or DD/MM/YYYY)"


def parse_day(text: str) -> date | None:
    """ISO (2026-04-01) or the UK's day first (01/04/2026), as spreadsheets write it; None when neither."""
    cleaned = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    """Whether two periods (days included) share a day."""
    return a_start <= b_end and b_start <= a_end


def period_text(start: date, end: date) -> str:
    """A period as reports, listings, problems and the audit log name it: "2026-01-01 to 2026-03-31"."""
    return f"{start.isoformat()} to {end.isoformat()}"
