"""Settings from environment variables and an optional ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"1h"``, ``"30d"`` or ``"1h30m"``."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90, 90s, 15m, 1h or 30d")
    return sum(float(number) * _UNITS[unit or "s"] for number, unit in parts)


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


class Settings(BaseSettings):
    """Every knob of figurebot; names match the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # Photo intake
    photo_max_mb: float = Field(20, gt=0)
    photo_max_megapixels: float = Field(40, gt=0)
    photo_min_side: int = Field(256, ge=16)
    photo_max_side: int = Field(2048, ge=256)

    # Figure output
    figure_width: int = Field(1024, ge=256, le=4096)
    figure_height: int = Field(1536, ge=384, le=6144)
    figure_format: Literal["png", "jpeg", "webp"] = "png"
    figure_style: Literal["blister", "window"] = "blister"
    figurebot_generator: str = "local"

    # Store and privacy
    figurebot_data_dir: Path = Path("data")
    database_url: str = ""
    figurebot_secret_key: SecretStr | None = None
    photo_retention: Seconds = 3600.0
    figure_retention: Seconds = 30 * 86400.0
    purge_interval: Seconds = 600.0
    privacy_notice_version: int = Field(2, ge=1)

    # Job engine
    worker_concurrency: int = Field(4, ge=1, le=64)
    local_concurrency: int = Field(2, ge=1, le=64)
    max_active_jobs_per_user: int = Field(2, ge=0)
    daily_quota_per_user: int | None = Field(None, ge=0)
    daily_quota_per_chat: int | None = Field(None, ge=0)
    max_attempts: int = Field(3, ge=1, le=20)
    retry_base_delay: Seconds = 2.0
    job_timeout: Seconds = 300.0
    shutdown_grace: Seconds = 20.0

    # OpenAI generator
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_image_model: str = "gpt-image-2.5-sunburst"
    openai_image_quality: Literal["low", "medium", "high", "auto"] = "medium"
    openai_image_size: str = Field("1024x1536", pattern=r"^(auto|\d{3,4}x\d{3,4})$")
    openai_timeout: Seconds = 180.0
    openai_partial_images: int = Field(2, ge=0, le=3)
    openai_box_mode: Literal["exact", "ai"] = "exact"
    openai_moderation: bool = True
    openai_concurrency: int = Field(4, ge=1, le=64)
    # USD per million tokens, for the cost estimate kept with each job
    openai_price_text_input: float = Field(5.0, ge=0)
    openai_price_image_input: float = Field(8.0, ge=0)
    openai_price_image_output: float = Field(32.0, ge=0)

    # Gemini generator
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str = ""
    gemini_image_model: str = "gemini-2.5-flash-image"
    gemini_box_mode: Literal["exact", "ai", "figurine"] = "exact"
    gemini_timeout: Seconds = 120.0
    gemini_concurrency: int = Field(4, ge=1, le=64)
    # USD per million tokens, for the cost estimate kept with each job
    gemini_price_text_input: float = Field(0.30, ge=0)
    gemini_price_image_input: float = Field(0.30, ge=0)
    gemini_price_image_output: float = Field(30.0, ge=0)

    # ComfyUI generator (the operator's own GPU servers)
    comfyui_urls: str = ""
    comfyui_workflow: str = ""
    comfyui_token: SecretStr | None = None
    comfyui_timeout: Seconds = 120.0
    comfyui_concurrency: int = Field(1, ge=1, le=16)
    comfyui_box_mode: Literal["exact", "ai"] = "exact"
    comfyui_on_premises: bool = True

    fallback_to_local: bool = False
    daily_budget_usd: float | None = Field(None, ge=0)
    daily_budget_per_chat_usd: float | None = Field(None, ge=0)
    stats_retention: Seconds = 90 * 86400.0

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    telegram_download_max_mb: float = Field(20, gt=0)
    telegram_webhook_url: str = ""
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None

    # Discord
    discord_token: SecretStr | None = None
    discord_guild_ids: str = ""
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = ""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    figurebot_font_dirs: str = ""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _portrait_two_by_three(self) -> Settings:
        """The box art is drawn for a 2:3 portrait page; other shapes would squash it."""
        if abs(self.figure_width * 3 - self.figure_height * 2) > 3:
            raise ValueError(
                f"FIGURE_WIDTH x FIGURE_HEIGHT must be 2:3 portrait (like 1024x1536); "
                f"got {self.figure_width}x{self.figure_height}"
            )
        return self

    @field_validator("discord_guild_ids")
    @classmethod
    def _guild_ids(cls, value: str) -> str:
        if any(not part.strip().isdigit() for part in value.split(",") if part.strip()):
            raise ValueError("DISCORD_GUILD_IDS takes numeric server ids separated by commas")
        return value

    @field_validator("comfyui_urls")
    @classmethod
    def _comfyui_urls(cls, value: str) -> str:
        for url in (part.strip() for part in value.split(",") if part.strip()):
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"COMFYUI_URLS takes http(s) base URLs separated by commas; got {url!r}")
        return value

    @property
    def comfyui_servers(self) -> list[str]:
        """``COMFYUI_URLS`` as a list of base URLs."""
        return [part.strip() for part in self.comfyui_urls.split(",") if part.strip()]

    @property
    def guild_ids(self) -> list[int]:
        """``DISCORD_GUILD_IDS`` as numbers: the servers whose commands are synced at once."""
        return [int(part) for part in self.discord_guild_ids.split(",") if part.strip()]

    @property
    def database(self) -> str:
        """The SQLAlchemy URL: ``DATABASE_URL``, or a SQLite file in the data folder."""
        return self.database_url or f"sqlite+aiosqlite:///{self.figurebot_data_dir / 'figurebot.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
