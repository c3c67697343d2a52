"""The demo in Welsh (issue 14): some personas choose Cymraeg above consent; their check-ins run in Welsh."""

from __future__ import annotations

from bot.emulator import ChatMessage, SimUser
from bot.texts import label
from surveys import language

WELSH_EVERY = 4
"""One persona in four speaks Welsh: about the share of Welsh speakers in Wales, rounded up to show it."""

# What the demo waits for, in each language (the bot's own wording, in bot/templates and bot/templates/cy).
CONSENT = {language.ENGLISH: "Do you agree", language.WELSH: "Ydych chi'n cytuno"}
WELCOME = {language.ENGLISH: "Thank you for taking part", language.WELSH: "Diolch am gymryd rhan"}
DONE = ("check-in done", "gwiriad wedi'i gwblhau")


def language_of(index: int) -> str:
    """The language the persona at `index` chooses."""
    return language.WELSH if index % WELSH_EVERY == 1 else language.ENGLISH


def said(key: str, code: str) -> str:
    """A button's label as the bot shows it in `code`."""
    with language.speaking(code):
        return label(key)


def start_buttons() -> set[str]:
    """[Start now] and [Carry on] under invitations and reminders, in every language."""
    return {said(key, code) for key in ("checkin.start", "checkin.carry_on") for code in language.LANGUAGES}


async def join(user: SimUser, token: str, code: str) -> ChatMessage:
    """Open the invite, choose the language (the choice is above the consent request), agree; the edited welcome."""
    await user.command("start", token)
    consent = await user.wait_for(CONSENT[language.ENGLISH], timeout=15)
    if code != language.ENGLISH:
        await user.press_button(consent, said(f"language.{code}", code))
        consent = await user.wait_for_edit(consent, CONSENT[code], timeout=15)
    await user.press_button(consent, said("consent.agree", code))
    return await user.wait_for_edit(consent, WELCOME[code], timeout=15)
