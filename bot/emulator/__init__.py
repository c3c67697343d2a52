"""A local Telegram Bot API emulator (aiohttp) with simulated users, limits and fault injection."""

from .emulator import Emulator
from .errors import ApiError
from .faults import FaultRule
from .limits import FloodLimits
from .state import CallbackAnswer, Chat, ChatMessage, Stats, StoredFile
from .users import SimGroup, SimUser

__all__ = [
    "ApiError",
    "CallbackAnswer",
    "Chat",
    "ChatMessage",
    "Emulator",
    "FaultRule",
    "FloodLimits",
    "SimGroup",
    "SimUser",
    "Stats",
    "StoredFile",
]
