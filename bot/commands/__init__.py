"""Sub-command groups of the `followup` CLI, one module per area."""

from __future__ import annotations

import importlib

import click

# Each module exposes a click command or group named `cli`; adding an area is one line here.
_MODULES = (
    "db",
    "quiz",
    "course",
    "audit",
    "export",
    "report",
    "figures",
    "run",
    "dispatch",
    "purge",
    "demo",
    "in_depth",
)


def register_all(group: click.Group) -> None:
    """Attach every area's commands to the top-level group."""
    for name in _MODULES:
        module = importlib.import_module(f"bot.commands.{name}")
        group.add_command(module.cli)
