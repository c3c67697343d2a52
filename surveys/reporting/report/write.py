"""Write the report: report.json, a self-contained report.html (inline SVG and CSS) and report.pdf."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from surveys.reporting.report.annual_charts import annual_figures
from surveys.reporting.report.annual_tables import with_annual
from surveys.reporting.report.charts import figures, raster, svg
from surveys.reporting.report.pdf import write_pdf
from surveys.reporting.report.tables import sections


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("surveys.reporting.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )


def render_html(report: dict[str, Any], charts_svg: dict[str, str], parts: list[dict[str, Any]] | None = None) -> str:
    """The report as one HTML page with nothing to fetch (works offline)."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        sections=parts if parts is not None else with_annual(sections(report), report),
        charts=charts_svg,
        marker=report["suppressed_marker"],
    )


def write_report(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.html and report.pdf into out_dir; returns their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / f"report.{kind}" for kind in ("json", "html", "pdf")}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    charts = figures(report) | annual_figures(report)
    charts_svg = {n: svg(f) for n, f in charts.items()}
    for fig in charts.values():
        # Laid out by the SVG draw already: the PNG draw reuses it (constrained layout is most of a draw).
        fig.set_layout_engine("none")
    parts = with_annual(sections(report), report)
    paths["html"].write_text(render_html(report, charts_svg, parts), encoding="utf-8")
    write_pdf(report, parts, {n: raster(f) for n, f in charts.items()}, paths["pdf"])
    return paths
