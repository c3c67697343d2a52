"""The bot's public username: from settings, or asked of the Bot API with getMe."""

from __future__ import annotations

import click
from telegram import Bot
from telegram.error import TelegramError

from surveys.settings import Settings


async def bot_username(settings: Settings) -> str:
    """FOLLOWUP_BOT_USERNAME if set, else getMe; a clear error when neither can answer."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.bot_token is None:
        raise click.ClickException(
            "set FOLLOWUP_BOT_USERNAME (or FOLLOWUP_BOT_TOKEN, to ask Telegram) to build invite links"
        )
    bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.telegram_api_url)
    try:
        async with bot:
            return bot.username
    except TelegramError as exc:
        raise click.ClickException(f"could not ask Telegram for the bot's username: {exc}") from None
