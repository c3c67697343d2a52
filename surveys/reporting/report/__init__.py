"""The impact report: SQL aggregation, statistics, charts, and HTML/PDF/JSON rendering."""

from surveys.reporting.report.build import Report, build_report
from surveys.reporting.report.write import write_report

__all__ = ["Report", "build_report", "write_report"]
