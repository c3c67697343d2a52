"""How a simulated practitioner takes a check-in: find the item, decide, tap or type."""

from __future__ import annotations

import random
import re

from bot.demo.personas import BARRIERS, COMMITMENTS, DIFFERENTLY, Persona
from bot.demo.welsh import DONE
from bot.emulator import ChatMessage, SimUser
from surveys import language
from surveys.domain import waves
from surveys.domain.engine import choices_of
from surveys.domain.quiz_text import RenderContext, render
from surveys.domain.quizset import CommitmentsItem, LikertItem, QuizSet
from surveys.texts import label

QUESTION = re.compile(r"^(\d+)/(\d+) · (.+)", re.M | re.S)
NONSENSE = ("hmm not sure", "?", "can you repeat that", "banana")


def is_question(message: ChatMessage) -> bool:
    """A check-in question (or its re-prompt)."""
    return bool(message.text and QUESTION.search(message.text))


def is_step(message: ChatMessage) -> bool:
    """What a practitioner waits for after answering: the next question or the summary."""
    return bool(message.text and (QUESTION.search(message.text) or _done(message)))


def _done(message: ChatMessage) -> bool:
    """The end-of-check-in summary, in either language."""
    return any(done in (message.text or "") for done in DONE)


class Practitioner:
    """A persona acting through a simulated Telegram user."""

    def __init__(self, persona: Persona, user: SimUser, quiz: QuizSet, course_title: str, rng: random.Random) -> None:
        self.persona = persona
        self.user = user
        self.quiz = quiz.in_language(persona.language)  # the set's words as this persona reads them
        self.rng = rng
        self.course_title = course_title
        self._texts: dict[str, dict[str, object]] = {}

    def _items_by_text(self, wave: str) -> dict[str, object]:
        if wave not in self._texts:
            context = RenderContext(self.course_title, wave, waves.months(wave))
            self._texts[wave] = {render(item.text, context).strip()[:60]: item for item in self.quiz.items_for(wave)}
        return self._texts[wave]

    def _identify(self, message: ChatMessage, wave: str):
        match = QUESTION.search(message.text or "")
        assert match is not None
        text = match.group(3).strip()
        # The parts of commitments items are recognised by their wording (surveys/templates/commitments.txt).
        for part, words in PARTS.items():
            if any(said in text for said in words):
                return part
        for prefix, item in self._items_by_text(wave).items():
            if text.startswith(prefix):
                return item
        raise LookupError(f"no item matches {text[:60]!r}")

    def _decide(self, item, wave: str) -> tuple[str | None, str]:
        """(button label to tap, or None) and the text to type instead."""
        p, rng, months = self.persona, self.rng, waves.months(wave)
        if item in PARTS or isinstance(item, CommitmentsItem):
            return self._commitment(item, wave)
        kind = item.kind
        if kind in ("single_choice", "true_false"):
            options = {c.value: c.label for c in choices_of(item)}
            right = item.correct_value
            knows = rng.random() < p.p_correct(wave, tuple(item.tags))
            value = right if knows else rng.choice([v for v in options if v != right])
            return (None, value) if p.types_answers and kind == "single_choice" else (options[value], value)
        if kind == "likert":
            assert isinstance(item, LikertItem)
            lean = _lean(item.construct_name, p, wave)
            score = min(5, max(1, round(rng.gauss(lean, 0.7))))
            raw = 6 - score if item.reverse else score
            return item.labels[raw - 1], str(raw)
        if kind == "yes_no":
            yes = rng.random() < p.practice + 0.04 * months
            return label("answer.yes" if yes else "answer.no"), ("yes" if yes else "no")
        if kind == "number":
            value = str(rng.randint(item.min, item.max))
            return None, value
        # free text: most write something, some skip
        if rng.random() < 0.7:
            return None, rng.choice(DIFFERENTLY)
        return None, "skip"

    def _commitment(self, part, wave: str) -> tuple[str | None, str]:
        """Type the persona's commitments one by one, then That's all; keep or drop them months later."""
        p, rng = self.persona, self.rng
        if isinstance(part, CommitmentsItem) or part == "more":
            made = self._made
            self._made += 1
            if made >= p.commits:
                enough = label("commitment.none") if made == 0 else label("commitment.enough")
                return enough, "that's all"
            return None, COMMITMENTS[made % len(COMMITMENTS)]
        if part == "status":
            kept = rng.random() < p.follow_through + 0.1 * (waves.months(wave) >= 6)
            status = "done" if kept else rng.choice(("partly", "notyet", "notyet", "nlr"))
            return label(f"commitment.{status}"), status
        barrier = rng.choice(BARRIERS)
        return (label("answer.skip"), "skip") if barrier == "skip" else (None, barrier)

    async def take(self, first: ChatMessage, wave: str, *, stop_after: int | None = None) -> bool:
        """Answer from `first` to the summary, reading buttons in their language; False if they stopped part-way."""
        with language.speaking(self.persona.language):
            return await self._take(first, wave, stop_after)

    async def _take(self, first: ChatMessage, wave: str, stop_after: int | None) -> bool:
        message, answered = first, 0
        self._made = 0
        while True:
            if stop_after is not None and answered >= stop_after:
                return False
            item = self._identify(message, wave)
            if self.persona.types_nonsense and self.rng.random() < 0.15:
                await self.user.send(self.rng.choice(NONSENSE))
                message = await self.user.wait_for(is_step, timeout=15)  # the re-prompt
                if _done(message):  # typed into a free-text item, nonsense is an answer
                    return True
                continue
            if item == "more":  # resumed or not, the message lists what is saved so far
                self._made = (message.text or "").count("«")
            label, typed = self._decide(item, wave)
            if label is not None and any(text == label for text, _ in self.user.buttons(message)):
                await self.user.press_button(message, label)
                # A tap is answered in place: the pressed question becomes the next one (or the summary).
                message = await self.user.wait_for_edit(message, is_step, timeout=15)
            else:
                await self.user.send(typed)
                message = await self.user.wait_for(is_step, timeout=15)
            answered += 1
            if _done(message):
                return True


# In English and Welsh (bot/templates/cy): some personas answer in Cymraeg (bot/demo/welsh.py).
PARTS = {
    "more": ("Saved ✓", "Wedi'i gadw ✓"),
    "status": ("On the course day you wrote", "Ar ddiwrnod y cwrs, fe ysgrifennoch chi"),
    "barrier": ("got in the way", "eich rhwystro"),  # the quiz set's own question (languages.DEFAULT_BARRIER)
}


def _lean(construct: str, p: Persona, wave: str) -> float:
    """Where a persona sits on a construct: the course moves it, and blaming creeps back a little as months pass."""
    months, before = waves.months(wave), wave == waves.PRE
    if construct in ("victim_blaming", "blaming_parents"):
        return p.blame + (0.8 if before else 0.08 * months)
    if construct == "self_efficacy":
        return p.efficacy - (0.8 if before else 0.05 * months)
    return p.efficacy + 0.2 - (0.9 if before else 0.03 * months)  # confidence, resources
