"""The in-depth follow-up in the chat: the invitation after the 3-month check-in, the case study, and the relay.

The relay passes messages between a training officer and a participant through the bot: the officer
addresses a pseudonym, the person answers with /reply, and neither side sees the other's chat id or name
(the bot sends new messages; it never forwards, which would show the sender). The text of a relayed
message is not stored or logged; only that one passed (surveys.store.in_depth.record_relay) and the audit.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import callbacks
from bot.admin.roles import Actor
from bot.callbacks import Kind
from bot.replies import Button, Reply, Text
from bot.texts import label, render_text
from surveys.clock import Clock
from surveys.domain import in_depth as rules
from surveys.domain.states import CheckInState
from surveys.domain.tokens import pseudonymise_actor
from surveys.language import speaking
from surveys.settings import Settings
from surveys.store import in_depth as store
from surveys.store.audit import AuditActor, audit_key, record
from surveys.store.checkins import open_check_in
from surveys.store.models import Enrolment

MAX_TYPED = 1000  # as for a check-in's free text: longer is more likely pasted case notes than an answer
MAX_RELAY = 3500  # Telegram's 4096 less the line saying who the message is from
SKIP = "skip"
PSEUDONYM = re.compile(r"P-[0-9A-Z]{10}")  # as surveys.domain.tokens.new_pseudonym makes them
SHORTEST = 3


def _line(kind: str, **values: object) -> str:
    return render_text("in_depth.txt", kind=kind, **values)


# --- the hook at the end of a check-in (bot.journey) ------------------------------------------------
async def offer(session: AsyncSession, check_in_id: int, now: datetime) -> Text | None:
    """After a completed check-in: draw its person if it is the in-depth wave; the invitation if drawn."""
    drawn = await store.draw(session, check_in_id, now)
    if drawn is None or not drawn.selected:
        return None
    rows = (
        (
            Button(label("in_depth.agree"), callbacks.encode(Kind.IN_DEPTH, drawn.id, "yes")),
            Button(label("in_depth.decline"), callbacks.encode(Kind.IN_DEPTH, drawn.id, "no")),
        ),
    )
    return Text(_line("invitation", share=drawn.share), rows)


def with_offer(reply: Reply, invitation: Text | None) -> Reply:
    """The reply to the last answer with the invitation after it, when there is one."""
    if invitation is None:
        return reply
    return dataclasses.replace(reply, messages=(*reply.messages, invitation))


@dataclass(frozen=True)
class Relayed:
    """A message to pass on: to which chats, what, and the reply for the sender once it has gone."""

    chats: tuple[int, ...]
    message: Text
    sent: Reply
    pseudonym: str
    enrolment_id: int
    officer: str


class InDepth:
    """The case-study conversation and the relay over the store; each call is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock

    # --- the person -----------------------------------------------------------------------------
    async def press(self, chat_id: int, draw_id: int, choice: str) -> Reply:
        """Yes or No under the invitation, or a theme button at the end of the case study."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if choice in ("yes", "no"):
                found = await store.respond(session, draw_id, chat_id, choice == "yes", now)
                if found is None:
                    return Reply(notice=_line("gone"))
                if choice == "no":
                    return Reply(notice=label("in_depth.decline"), edit=Text(_line("declined")))
                return Reply(notice=label("in_depth.agree"), edit=_question("situation", lead=_line("agreed")))
            under_way = await store.case_study(session, chat_id)
            if (
                under_way is None
                or under_way[0].id != draw_id
                or store.next_question(under_way[1]) != rules.THEME
                or choice not in rules.THEMES
            ):
                return Reply(notice=_line("gone"))
            await store.answer(session, under_way[0], rules.THEME, choice, now)
            chosen = f"{_line(rules.THEME)}\n✓ {_theme(choice)}"
            return Reply(notice=_theme(choice), edit=Text(f"{chosen}\n\n{_line('done')}"))

    async def typed(self, chat_id: int, text: str) -> Reply | None:
        """Typed text during a case study: the answer to its question; None when no case study is under way.

        A check-in the person is in the middle of comes first: its answers are typed too.
        """
        now = self.clock()
        async with self.sessions() as session, session.begin():
            under_way = await store.case_study(session, chat_id)
            if under_way is None:
                return None
            open_now = await open_check_in(session, chat_id, now)
            if open_now is not None and open_now.check_in.state == CheckInState.IN_PROGRESS:
                return None
            found, answers = under_way
            question = store.next_question(answers)
            if question is None or question == rules.THEME:
                return Reply((_question(rules.THEME, draw_id=found.id),))
            value = text.strip()
            if len(value) > MAX_TYPED:
                return Reply((Text(_line("too_long", length=len(value), limit=MAX_TYPED)),))
            if value.lower() == SKIP:
                value = ""
            elif len(value) < SHORTEST:
                return Reply((_question(question, lead=_line("too_short")),))
            await store.answer(session, found, question, value, now)
            following = store.next_question({**answers, question: value})
            assert following is not None  # the theme is last and is a button
            return Reply((_question(following, draw_id=found.id),))

    # --- the relay ------------------------------------------------------------------------------
    async def relay(self, actor: Actor, pseudonym: str, message: str) -> Reply | Relayed:
        """/relay P-… message from an officer: the message to pass on, or why not (refusals audited)."""
        now = self.clock()
        audited = actor.audited(self.settings)
        async with self.sessions() as session, session.begin():
            if not pseudonym:
                people = await store.participants(session)
                return Reply((Text(_line("relay_usage", people=people)),))
            if len(message) > MAX_RELAY:
                return Reply((Text(_line("too_long", length=len(message), limit=MAX_RELAY)),))
            target = pseudonym.upper()[:16]
            found = await store.participant(session, target)
            if found is None:
                # Only something shaped like a pseudonym goes into the log: never a name typed in its place.
                logged = target if PSEUDONYM.fullmatch(target) else "(not a pseudonym)"
                await record(session, audited, "relay", now=now, target=logged, outcome="refused", detail="unknown")
                return Reply((Text(_line("relay_unknown", pseudonym=target)),))
            if found.chat_id is None:
                await record(session, audited, "relay", now=now, target=target, outcome="refused", detail="unlinked")
                return Reply((Text(_line("relay_unreachable", pseudonym=target)),))
            if not message.strip():
                people = await store.participants(session)
                return Reply((Text(_line("relay_usage", people=people)),))
            # The officer's message reaches the person in their own language (issue 14).
            spoken = await session.scalar(select(Enrolment.language).where(Enrolment.id == found.enrolment_id))
        with speaking(spoken or self.settings.default_language):
            delivered = Text(_line("from_officer", message=message))
        return Relayed(
            (found.chat_id,),
            delivered,
            Reply((Text(_line("relayed", pseudonym=found.pseudonym)),)),
            found.pseudonym,
            found.enrolment_id,
            audited.name,
        )

    async def reply(self, chat_id: int, message: str) -> Reply | Relayed:
        """/reply message from a participant: to the officer whose message it answers, or a polite no."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            pending = await store.pending_relay(session, chat_id, now)
            if pending is None:
                days = store.RELAY_OPEN.days
                return Reply((Text(_line("no_relay", days=days, contact=self.settings.evaluation_contact)),))
            if not message.strip():
                return Reply((Text(_line("reply_usage")),))
            if len(message) > MAX_RELAY:
                return Reply((Text(_line("too_long", length=len(message), limit=MAX_RELAY)),))
            pseudonym, officer = pending
            found = await store.participant(session, pseudonym)
            assert found is not None
        return Relayed(
            self._officer_chats(officer),
            Text(_line("from_person", pseudonym=pseudonym, course=found.course_code, message=message)),
            Reply((Text(_line("replied")),)),
            pseudonym,
            found.enrolment_id,
            officer,
        )

    def _officer_chats(self, officer: str) -> tuple[int, ...]:
        """The officer who wrote (matched by audit pseudonym), or every officer if they are no longer one."""
        key = audit_key(self.settings)
        matching = tuple(i for i in self.settings.admin_ids if pseudonymise_actor(i, key) == officer)
        return matching or tuple(self.settings.admin_ids)

    async def passed(self, relayed: Relayed, direction: str, *, delivered: bool) -> None:
        """Record that a relayed message went (or could not go): a relay row and an audit event, no text."""
        now = self.clock()
        to_person = direction == store.TO_PERSON
        actor = AuditActor("officer", relayed.officer) if to_person else AuditActor("participant", relayed.pseudonym)
        async with self.sessions() as session, session.begin():
            if delivered:
                await store.record_relay(session, relayed.enrolment_id, relayed.officer, direction, now)
            await record(
                session,
                actor,
                "relay" if to_person else "relay.reply",
                now=now,
                target=relayed.pseudonym,
                outcome="ok" if delivered else "failed",
            )


def _theme(key: str) -> str:
    """A theme as its button says it, in the person's language (labels.yaml in_depth.theme; Cymraeg, issue 14)."""
    return label(f"in_depth.theme.{key}")


def _question(question: str, *, lead: str = "", draw_id: int | None = None) -> Text:
    """A case-study question (the theme with its buttons), after an optional lead."""
    text = f"{lead}\n\n{_line(question)}" if lead else _line(question)
    if question != rules.THEME:
        return Text(text)
    assert draw_id is not None
    rows = tuple((Button(_theme(key), callbacks.encode(Kind.IN_DEPTH, draw_id, key)),) for key in rules.THEMES)
    return Text(text, rows)
