"""followup tests."""
