"""The offline demo: emulator, SQLite and simulated practitioners through a whole cycle."""
