"""Settings: every knob of the client, read from arguments or ``TICKETMASTER_*`` env vars."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CACHE_MAX_ENTRIES,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUESTS_PER_SECOND,
    DEVELOPMENT_DAILY_LIMIT,
    ENV_PREFIX,
)
from ._exceptions import ConfigurationError

__all__ = ["Environment", "Settings", "default_db_path"]

Environment = Literal["production", "development", "sandbox"]

_MAX_PORT = 65535


def default_db_path() -> str:
    """``<user cache dir>/ticketmaster_async/state.sqlite3``."""
    return str(Path(platformdirs.user_cache_dir("ticketmaster_async")) / "state.sqlite3")


class Settings(BaseSettings):
    """Configuration of a :class:`~ticketmaster_async.TicketmasterClient`.

    Every field can also be set with an environment variable ``TICKETMASTER_<FIELD>``
    (for example ``TICKETMASTER_API_KEY``). Durations are float seconds.

    Raises:
        ConfigurationError: a value is invalid, or ``api_key`` is missing outside ``sandbox``.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_default=True,
    )

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    environment: Environment = "production"
    db_path: str = Field(default_factory=default_db_path)
    redis_url: SecretStr | None = None
    redis_prefix: str = Field(default="tm", min_length=1, max_length=64)
    cache_ttl: float = Field(default=1800.0, ge=0)
    max_stale: float = Field(default=86_400.0, ge=0)
    cache_max_entries: int = Field(default=DEFAULT_CACHE_MAX_ENTRIES, ge=1)
    requests_per_second: float = Field(default=DEFAULT_REQUESTS_PER_SECOND, gt=0)
    daily_limit: int = Field(default=DEFAULT_DAILY_LIMIT, ge=1)
    timeout: float = Field(default=10.0, gt=0)
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, ge=1)
    max_retries: int = Field(default=3, ge=0, le=20)
    retry_max_wait: float = Field(default=30.0, ge=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_reset: float = Field(default=30.0, gt=0)
    offers: bool = True
    top_picks: bool = False
    debug: bool = False

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # Build the message from locations and reasons only: pydantic's own text echoes
            # the offending input, which could be a secret.
            reasons = "; ".join(
                f"{'.'.join(str(part) for part in err['loc']) or 'settings'}: {err['msg']}"
                for err in exc.errors(include_url=False, include_input=False)
            )
            raise ConfigurationError(f"invalid settings: {reasons}") from None
        if self.environment != "sandbox" and (
            self.api_key is None or not self.api_key.get_secret_value().strip()
        ):
            raise ConfigurationError(
                "no API key: set TICKETMASTER_API_KEY (or Settings(api_key=...)), "
                "or use environment='sandbox' (the CLI's --sandbox) for the built-in fake API"
            )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _checked_base_url(value)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _development_budget(self) -> Settings:
        # In development the same API is used, but a smaller default budget protects the quota.
        if self.environment == "development" and "daily_limit" not in self.model_fields_set:
            self.daily_limit = DEVELOPMENT_DAILY_LIMIT
        return self


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _checked_base_url(value: str) -> str:
    """``value`` without its trailing slash, if it is a usable ``http(s)://host[:port][/path]``.

    The messages never repeat the value: a URL can carry credentials.
    """
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced or invalid bracketed (IPv6) host
        raise ValueError("is not a valid URL (bad [IPv6] host)") from None
    try:
        port = parts.port
    except ValueError:  # not a number, or outside 0-65535
        port = -1
    if port is not None and not 1 <= port <= _MAX_PORT:
        raise ValueError(f"port must be a number in 1-{_MAX_PORT}")
    if not parts.hostname:
        raise ValueError("must name a host")
    if "[" in parts.netloc and not _is_ipv6(parts.hostname):  # Python 3.10 lets "[zz]" pass
        raise ValueError("is not a valid URL (bad [IPv6] host)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError("must not contain a query or fragment")
    return value.rstrip("/")
