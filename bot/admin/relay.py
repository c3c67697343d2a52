"""/relay P-… message: a training officer writes to an in-depth participant through the bot (guarded, audited)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.roles import Actor
from bot.delivery import deliver
from bot.handlers.in_depth import command_text, in_depth, relay_to_person
from bot.replies import Reply


async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> None:
    """/relay P-… message: passed on as a message from the bot; /relay alone lists who can be reached."""
    pseudonym, message = ([*command_text(update).split(maxsplit=1), "", ""])[:2]
    outcome = await in_depth(context).relay(actor, pseudonym, message.strip())
    if isinstance(outcome, Reply):
        await deliver(update, context, outcome)
    else:
        await relay_to_person(update, context, outcome)
