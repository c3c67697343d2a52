"""CLI: `python -m bot.emulator --port 8081 --token T --username U` serves the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .emulator import Emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", action="append", help="valid bot token (repeatable)")
    parser.add_argument("--username", default="followup_test_bot")
    parser.add_argument("--no-limits", action="store_true", help="do not enforce Telegram's flood limits")
    args = parser.parse_args(argv)

    async def serve() -> None:
        emu = Emulator(args.token or ["123:ABC"], args.username, limits=not args.no_limits)
        url = await emu.start(args.host, args.port)
        print(
            f"Telegram emulator for @{args.username} at {url}  (bot API base: {emu.base_url}, control: {url}/control)",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await emu.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
