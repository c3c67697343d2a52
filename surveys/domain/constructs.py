"""The attitude constructs a Likert item may feed, each with the label reports show."""

from __future__ import annotations

LABELS = {
    "victim_blaming": "Victim blaming (higher = more blaming)",
    "blaming_parents": "Blaming parents and carers (higher = more blaming)",
    "self_efficacy": "Self-efficacy (powerlessness reversed; higher = more able)",
    "confidence": "Confidence to spot the signs",
    "resources": "Resources to identify CSE and act",
}
"""Construct name → label; a quiz set may name only these (in this order in reports)."""

NAMES = tuple(LABELS)
"""The construct names, in the order above."""


def label(name: str) -> str:
    """The construct's label for reports; its name when it has none (a construct from an older quiz set)."""
    return LABELS.get(name, name)
