"""The Telegram bot: send it a photo, get your boxed figure back (python-telegram-bot 22)."""

from adapters.telegram.application import TelegramAdapter
from adapters.telegram.pacing import FloodLimits

__all__ = ["FloodLimits", "TelegramAdapter"]
