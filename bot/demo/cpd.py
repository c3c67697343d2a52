"""The demo's CPD record: someone who stayed to the end asks for it with /cpd; the PDF is kept as an example."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.demo.practitioner import Practitioner

EXAMPLE = "cpd-record-example.pdf"


async def example_record(people: Mapping[int, Practitioner], out: Path) -> Path | None:
    """Ask for a record in the chat as a person would (/cpd, then a name) and save the PDF sent into `out`."""
    person = next(
        (
            p
            for p in people.values()
            if p.persona.last_wave == "6m" and not (p.persona.uses_stop or p.persona.blocks_bot)
        ),
        None,
    )
    if person is None:
        return None
    user = person.user
    await user.command("cpd")
    await user.wait_for(lambda m: "Type your name" in (m.text or ""), timeout=15)
    # A made-up name, as the demo's people are: in the file only, never stored.
    await user.send(f"{person.persona.first_name} Example")
    sent = await user.wait_for(lambda m: m.document is not None, timeout=15)
    assert sent.document_bytes is not None
    path = out / EXAMPLE
    path.write_bytes(sent.document_bytes)
    return path
