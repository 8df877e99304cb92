"""Errors whose message is written for the person in the chat, never a traceback."""


class UserFacingError(Exception):
    """An error whose ``str()`` is a complete, friendly sentence a chat user can read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(Exception):
    """The operator must fix the setup (a key, a folder); the message says what, for the log or terminal."""


class PlatformNotReady(Exception):
    """A chat platform is not connected (yet, or any more): what it was asked to post waits for a retry."""
