"""Tests of the Telegram adapter, the admin tools and the CLI."""
