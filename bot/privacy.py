"""Privacy at rest: the photo key, encryption of stored images, the notice users consent to."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bot.config import Settings
from bot.durations import duration_words
from bot.errors import UserFacingError
from bot.logs import log_event

log = logging.getLogger("figurebot.privacy")
KEY_FILE = "secret.key"


class ConsentRequired(UserFacingError):
    """The generator sends photos off this bot's own machines and the user has not accepted the current
    notice."""

    def __init__(self, notice: str, version: int) -> None:
        super().__init__(notice)
        self.version = version


class Vault:
    """Encrypts photo and figure bytes before they reach the store (Fernet: AES-128-CBC + HMAC)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._pepper = hashlib.sha256(b"figurebot pseudonym" + key).digest()

    def pseudonym(self, text: str) -> str:
        """A stable keyed hash of ``text`` (32 hex characters) that cannot be turned back into it."""
        return hmac.new(self._pepper, text.encode(), hashlib.sha256).hexdigest()[:32]

    def seal(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def open(self, token: bytes) -> bytes:
        """The plain bytes; a wrong key or tampered data raises ``ValueError`` without the key in it."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise ValueError("stored data could not be decrypted with FIGUREBOT_SECRET_KEY") from None


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if needed, readable by this user only."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def load_key(settings: Settings) -> bytes:
    """``FIGUREBOT_SECRET_KEY``, or the key file in the data folder, created (mode 0600) on first start."""
    if settings.figurebot_secret_key is not None:
        key = settings.figurebot_secret_key.get_secret_value().encode()
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(
                "FIGUREBOT_SECRET_KEY is not a valid key; make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
        return key
    path = Path(settings.figurebot_data_dir) / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    make_private_dir(path.parent)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    log_event(log, "key.created", logging.WARNING, file=str(path), note="back it up; it is never printed")
    return key


def retention_text(settings: Settings) -> str:
    """How long photos and figures are kept, in words."""
    photo = (
        "deleted as soon as your figure is delivered"
        if settings.photo_retention == 0
        else f"kept for {duration_words(settings.photo_retention)} after your last figure, so re-rolls work"
    )
    figure = (
        "deleted once delivered"
        if settings.figure_retention == 0
        else f"kept for {duration_words(settings.figure_retention)}"
    )
    return f"Your photo is {photo}; finished figures are {figure}."


SERVICES = {
    "openai": "OpenAI's image service",
    "gemini": "Google's Gemini API",
    "comfyui": "a hosted ComfyUI service",
}
GOOGLE_KEEPS = (
    "Google keeps requests for a limited time only to detect abuse (on a free-tier key it may also use them "
    "to improve its products), and every picture Gemini paints carries Google's invisible SynthID watermark."
)
TEMP_FOLDER = "the photo and the figure in a temporary folder until {} restart"


def privacy_notice(generator: str, sends_off_machine: bool, settings: Settings) -> str:
    """The notice shown before a first photo: who sees it, how long it is kept, how to delete it."""
    if sends_off_machine:
        service = SERVICES.get(generator, f"the {generator} image service")
        where = f"Your photo is sent to {service} to paint your figure."
        if generator == "comfyui":
            where += f" It keeps {TEMP_FOLDER.format('it')}s."
        elif generator == "gemini":
            where += f" {GOOGLE_KEEPS}"
    elif generator == "comfyui":
        where = (
            "Your photo stays on this bot's own machines: figures are painted on its own GPU servers, "
            f"which keep {TEMP_FOLDER.format('they')}."
        )
    else:
        where = "Your photo stays on this bot's own machines: figures are painted here."
    return (
        f"Privacy notice (version {settings.privacy_notice_version}). {where} "
        "Location and camera details are removed the moment it arrives, and it is stored encrypted. "
        f"{retention_text(settings)} Use /forget at any time to delete everything about you."
    )


def expired_message(settings: Settings) -> str:
    """What a user is told when a re-roll needs a photo that retention already deleted."""
    kept = duration_words(settings.photo_retention) if settings.photo_retention else "no time"
    return f"That photo has expired: photos are kept {kept} after their last figure. Send it again."
