"""Discord's markup for the shared wording: markdown, ``<@id>`` mentions (posted with pings off) and
deadlines as timestamps Discord shows each reader in their own time zone."""

from __future__ import annotations

from adapters.discord.replies import plain


class Markdown:
    """The ``Markup`` of Discord messages."""

    def bold(self, text: str) -> str:
        return f"**{plain(text)}**"

    def mention(self, user_id: str) -> str:
        return f"<@{int(user_id)}>"

    def deadline(self, moment: float | None) -> str:
        """The reader's local date and time, and how far off it is."""
        if moment is None:
            return "soon"
        return f"<t:{int(moment)}:f> (<t:{int(moment)}:R>)"


MARKDOWN = Markdown()
