"""Test helpers: the emulator world, factories, builders and data."""
