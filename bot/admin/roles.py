"""Who may use the admin tools: training officers and evaluators, by Telegram user id from settings."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.settings import Settings
from surveys.store.audit import AuditActor, chat_actor

OFFICER = "officer"
EVALUATOR = "evaluator"
OFFICERS = frozenset({OFFICER})
OFFICERS_AND_EVALUATORS = frozenset({OFFICER, EVALUATOR})


@dataclass(frozen=True)
class Actor:
    """The person behind an update: their Telegram id (kept in memory only) and admin role, if any."""

    user_id: int
    role: str | None

    def audited(self, settings: Settings) -> AuditActor:
        """How the audit log names this person: their role and a keyed hash of their id."""
        return chat_actor(self.role, self.user_id, settings)


def role_of(settings: Settings, user_id: int) -> str | None:
    """Officer if listed in FOLLOWUP_ADMIN_IDS, else evaluator if in FOLLOWUP_EVALUATOR_IDS, else None."""
    if user_id in settings.admin_ids:
        return OFFICER
    if user_id in settings.evaluator_ids:
        return EVALUATOR
    return None
