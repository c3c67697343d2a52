"""Configured names (roles, agencies): how a typed or listed name is compared with them."""

from __future__ import annotations


def normalise(text: str) -> str:
    """A name as compared and stored: lower case, runs of spaces made one, no spaces at the ends."""
    return " ".join(str(text).split()).lower()


def match(text: str, names: tuple[str, ...]) -> str | None:
    """The configured name `text` stands for, ignoring case and extra spaces; None for anything else."""
    wanted = normalise(text)
    return wanted if wanted in names else None
