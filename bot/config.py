"""Settings from environment variables and an optional ``.env`` file (see ``.env.example``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob of figurebot; names match the environment variables (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    photo_max_mb: float = Field(20, gt=0, description="Largest photo file accepted, in MB.")
    photo_max_megapixels: float = Field(40, gt=0, description="Largest pixel count, checked before decoding.")
    photo_min_side: int = Field(256, ge=16, description="Smallest accepted short side, in pixels.")
    photo_max_side: int = Field(2048, ge=256, description="Photos are downscaled to this long side.")

    figure_width: int = Field(1024, ge=256, le=4096)
    figure_height: int = Field(1536, ge=384, le=6144)
    figure_format: Literal["png", "jpeg", "webp"] = "png"
    figure_style: str = Field("blister", description="Default box style: blister or window.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
