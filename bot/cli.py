"""The `followup` command line: one click group, sub-commands live in bot/commands/."""

from __future__ import annotations

import click

from bot.commands import register_all


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """followup: check-ins that show whether CSE training sticks."""


register_all(main)
