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
