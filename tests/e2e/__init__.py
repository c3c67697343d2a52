"""Whole-product tests: the demo and the bot as a process."""
