"""The command tree, where every command's failure is answered once: a refusal in its own words, a check or
an option discord.py could not pass in one line, anything else as an apology with the details in the log."""

from __future__ import annotations

from typing import Any

from discord import app_commands

from adapters.discord.replies import Interaction
from adapters.discord.views import answer_failure
from bot.errors import UserFacingError

NOT_HERE = "You can't use that command here."
UNREADABLE_OPTION = "I couldn't read one of the options; please check them and try again."


class FigureTree(app_commands.CommandTree[Any]):
    """discord.py's command tree, answering the failures of the commands it runs."""

    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, app_commands.CommandInvokeError):
            failure: Exception = error.original  # raised by the command itself
        elif isinstance(error, app_commands.CheckFailure):
            failure = UserFacingError(NOT_HERE)
        elif isinstance(error, app_commands.TransformerError):
            failure = UserFacingError(UNREADABLE_OPTION)
        else:
            failure = error
        await answer_failure(interaction, failure)
