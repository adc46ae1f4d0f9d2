"""Building the Moodle client from the daemon's `[moodle]` configuration (the client itself knows no config)."""

from __future__ import annotations

from archived.config import MoodleConfig
from archived.moodle.api import MoodleApi
from archived.moodle.client import MoodleClient
from archived.moodle.transfer import TransferLimits


def build_moodle_client(config: MoodleConfig, token: str) -> MoodleClient:
    """A client with the configured limits; the token is kept out of every repr and log line."""
    verify: bool | str = str(config.ca_file) if config.ca_file else config.verify_tls
    return MoodleClient(
        config.url,
        token,
        max_concurrent=config.max_concurrent_requests,
        requests_per_second=config.requests_per_second,
        timeout=config.timeout_seconds,
        retries=config.retries,
        site_url=config.site_url,
        verify=verify,
        transfer=TransferLimits(
            min_bytes_per_second=config.download_min_bytes_per_second,
            window_seconds=config.download_rate_window_seconds,
            total_seconds=config.download_timeout_seconds,
        ),
        allow_insecure_http=config.allow_insecure_http,
    )


def build_moodle_api(config: MoodleConfig, token: str) -> MoodleApi:
    """The typed API over a new client (close it with `api.client.aclose()`)."""
    return MoodleApi(build_moodle_client(config, token))
