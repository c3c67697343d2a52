"""Fault injection: rules that make chosen requests fail, stall or hang up, like a bad network day."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FaultRule:
    """Matches requests by method (case-insensitive, None = any) and optional chat id.

    When it fires: wait `delay` seconds, then either close the connection (`drop`), answer with
    `status` (plus `retry_after` for 429s), or - with neither - let the request proceed normally.
    `times=None` fires forever.
    """

    method: str | None = None
    chat_id: int | None = None
    status: int | None = None
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = None
    fired: int = 0

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.exhausted:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultInjector:
    """An ordered rule list; the first live matching rule fires."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, chat_id: int | None) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, chat_id):
                rule.fired += 1
                return rule
        return None
