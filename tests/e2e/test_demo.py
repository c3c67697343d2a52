"""The offline demo: the whole cycle runs, the report and exports come out, nobody is identifiable."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import main
from bot.demo.personas import make_personas


def test_the_demo_runs_a_whole_course_cycle_offline_and_leaves_no_way_to_identify_anyone(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--attendees", "12", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # Progress is shown stage by stage, and the summary names what was written.
    assert "[1/8]" in result.output and "[8/8]" in result.output and "report.html" in result.output
    # The 1m wave only reminds people of their own commitments; later they say how those stand.
    assert "reminded of their own commitments" in result.output and "Commitments:" in result.output

    report = json.loads((out / "report" / "report.json").read_text())
    assert report["courses"][0]["code"] == "DEMO-CSE-2"
    # Pre and post on the day: everyone answers pre in the room, and the report shows the day's change.
    # (The 1m reminder asks nothing, so the report has no wave for it.)
    assert report["waves"] == ["pre", "post", "3m", "6m"]
    day = report["paired_change"][0]
    assert (day["from"], day["to"], day["kind"]) == ("pre", "post", "day") and day["n"] >= 10
    assert day["mean_after"] > day["mean_before"]
    assert [(r["from"], r["to"]) for r in report["paired_change"][1:]] == [("post", "3m"), ("post", "6m")]
    assert (out / "report" / "report.pdf").read_bytes().startswith(b"%PDF")
    for name in ("answers-long.csv", "answers-wide.xlsx", "answers-wide.sav"):
        assert (out / name).stat().st_size > 0
    # One CPD record, asked for in the chat with /cpd, kept as an example.
    assert (out / "cpd-record-example.pdf").read_bytes().startswith(b"%PDF")

    # The board's year: three courses of 2026 with the board's figures beside them.
    annual = json.loads((out / "annual-report" / "report.json").read_text())
    assert [r["level"] for r in annual["annual"]["course"][:-1]] == [1, 2, 3]
    assert len(annual["org_figures"]["measures"]) == 4 and "[annual]" in result.output

    # The retention purge ran: no chat link is left to tie answers to a person.
    assert "0 chat links remain" in result.output
    people = make_personas(12)
    produced = [p for p in out.rglob("*") if p.is_file() and p.name != "demo.db" and not p.name.startswith("demo.db")]
    for path in produced:
        data = path.read_bytes()
        for person in people:
            assert str(person.user_id).encode() not in data, f"{path.name} holds a Telegram id"
    assert b"j.smith@example.org" not in (out / "answers-long.csv").read_bytes()  # free text was scrubbed
