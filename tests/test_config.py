"""Settings: base_url must be a usable http(s) URL; max_response_bytes bounds every body."""

from __future__ import annotations

import httpx
import pytest

from ticketmaster_async import ConfigurationError, Settings

SECRET = "user:hunter2"


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:0", "port"),
        ("http://127.0.0.1:-1", "port"),
        ("http://127.0.0.1:80a", "port"),
        ("http://[::1", "IPv6"),
        ("http://[zz]:8080", "IPv6"),
        ("http://", "host"),
        ("http:///path", "host"),
        ("http://:8080", "host"),
        ("http://exa mple.com", "spaces"),
        ("http://example.com/a path", "spaces"),
        (" http://example.com", "http"),
        ("http://example.com\n", "spaces"),
        ("http://example.com\x00", "control"),
        ("http://example.com/?apikey=x", "query"),
        ("http://example.com?", "query"),
        ("http://example.com/#top", "fragment"),
        (f"http://{SECRET}@example.com", "credentials"),
        ("ftp://example.com", "http"),
        ("example.com", "http"),
    ],
)
def test_unusable_base_urls_are_configuration_errors(base_url: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(api_key="k", base_url=base_url)
    message = str(info.value)
    assert "base_url" in message and reason in message
    assert SECRET not in message  # the value is never repeated


@pytest.mark.parametrize(
    ("base_url", "kept"),
    [
        ("https://app.ticketmaster.com", "https://app.ticketmaster.com"),
        ("https://app.ticketmaster.com/", "https://app.ticketmaster.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://[::1]:8080/prefix/", "http://[::1]:8080/prefix"),
        ("https://gateway.example/tm/api", "https://gateway.example/tm/api"),
        ("http://localhost:65535", "http://localhost:65535"),
    ],
)
def test_usable_base_urls_are_kept(base_url: str, kept: str) -> None:
    settings = Settings(api_key="k", base_url=base_url)
    assert settings.base_url == kept
    httpx.URL(settings.base_url)  # and httpx takes it as it is


def test_max_response_bytes_defaults_to_16_mib_and_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(api_key="k").max_response_bytes == 16 * 1024 * 1024
    monkeypatch.setenv("TICKETMASTER_MAX_RESPONSE_BYTES", "1000")
    assert Settings(api_key="k").max_response_bytes == 1000


@pytest.mark.parametrize("value", [0, -1, "lots"])
def test_max_response_bytes_must_be_a_positive_integer(value: object) -> None:
    with pytest.raises(ConfigurationError, match="max_response_bytes"):
        Settings(api_key="k", max_response_bytes=value)
