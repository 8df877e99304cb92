"""What a chat's or server's admins set for figurebot there."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class ChatSettings:
    """One chat's (Telegram) or server's (Discord) own rules; ``None`` means the global setting."""

    local_only: bool = False  # photos stay on this bot's own machines: no outside image service paints
    daily_quota_per_user: int | None = None
    photo_retention: float | None = None  # seconds; used when shorter than the global PHOTO_RETENTION
    channels: tuple[str, ...] = ()  # where the bot answers (Discord channel ids); empty: everywhere
    admin_role: str | None = None  # a role (Discord) whose members may administer challenges

    @classmethod
    def from_row(cls, row: Any) -> ChatSettings:
        channels = tuple(part for part in (row.channels or "").split(",") if part)
        local_only, retention = bool(row.local_only), row.photo_retention
        return cls(local_only, row.daily_quota_per_user, retention, channels, row.admin_role)

    def to_row(self) -> dict[str, Any]:
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["channels"] = ",".join(self.channels)
        return values

    def changed(self, **changes: Any) -> ChatSettings:
        """A copy with ``changes``; unknown names and bad values raise ``ValueError``."""
        unknown = set(changes) - {field.name for field in fields(self)}
        if unknown:
            raise ValueError(f"unknown chat settings: {', '.join(sorted(unknown))}")
        if "channels" in changes:
            changes["channels"] = tuple(str(channel) for channel in changes["channels"])
        for name in ("daily_quota_per_user", "photo_retention"):
            value = changes.get(name)
            if value is not None and value < 0:
                raise ValueError(f"{name} cannot be negative")
        return replace(self, **changes)
