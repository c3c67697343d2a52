"""Tests of waves and time."""
