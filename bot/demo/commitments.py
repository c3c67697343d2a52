"""The demo's commitments: the 1m wave that only reminds people of their own, and what became of them."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from surveys.domain import commitments
from surveys.store.models import Answer, CheckIn

if TYPE_CHECKING:
    from bot.demo.run import Demo

REMINDED = ("On the course day you wrote down", "Ar ddiwrnod y cwrs, fe ysgrifennoch chi beth")  # English, Welsh


async def nudge_wave(demo: Demo, wave: str, stage: str) -> None:
    """A message-only wave: one dispatch pass sends each person their own commitments, and asks nothing."""
    async with demo.sessions() as session:
        due = await session.scalar(select(func.min(CheckIn.due_at)).where(CheckIn.wave == wave))
    demo.clock.set(due)
    sent = await demo.dispatch_due()
    reminded = sum(
        any(said in (m.text or "") for said in REMINDED for m in demo.people[p.user_id].user.messages)
        for p in demo.personas
    )
    demo.result.completed[wave] = reminded
    demo.echo(
        f"{stage} {wave:>4}: {sent.sent} reminded of their own commitments, no questions "
        f"(those who made none got nothing)."
    )


async def outcome_line(demo: Demo) -> str:
    """Commitments made on the day and how they stood at each later wave (level 3, in one line)."""
    async with demo.sessions() as session:
        rows = (
            await session.execute(
                select(CheckIn.wave, Answer.item_id, Answer.value).join(CheckIn, CheckIn.id == Answer.check_in_id)
            )
        ).all()
    made = sum(int(v) for _, item_id, v in rows if item_id == "commit" and v.isdigit())
    people = sum(1 for _, item_id, v in rows if item_id == "commit" and v not in ("", "0"))
    by_wave: dict[str, Counter[str]] = {}
    for wave, item_id, value in rows:
        part = commitments.split(item_id)
        if part is not None and not part.barrier and value in commitments.STATUSES:
            by_wave.setdefault(wave, Counter())[value] += 1
    stood = "; ".join(
        f"{wave}: " + ", ".join(f"{counts[s]} {s}" for s in commitments.STATUSES) for wave, counts in by_wave.items()
    )
    return f"Commitments: {made} made by {people} people on the day; reviewed {stood or 'by nobody yet'}."
