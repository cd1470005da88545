"""Settings: where Bugzilla is, which bugs, where data goes, how politely to fetch."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bzmine.errors import ConfigError

DEFAULT_URL = "https://bugzilla.mozilla.org"
DEFAULT_PRODUCTS = ("CA Program", "NSS")  # older CA compliance bugs live under NSS
DEFAULT_COMPONENTS = ("CA Certificate Compliance",)
CONFIG_FILE = Path("~/.config/bzmine/api_key").expanduser()


@dataclass(frozen=True)
class Settings:
    """Everything a sync needs; built once at the CLI edge and passed down."""

    url: str = DEFAULT_URL
    db: str = "data/bzmine.duckdb"
    products: tuple[str, ...] = DEFAULT_PRODUCTS
    components: tuple[str, ...] = DEFAULT_COMPONENTS
    api_key: str | None = field(default=None, repr=False)  # never printed
    cache_path: str | None = "data/http_cache"  # requests-cache sqlite file (".sqlite" added); None: no cache
    list_page_size: int = 1000  # ids per listing page (include_fields=id,last_change_time)
    batch_size: int = 50  # bugs per detail request (comments and history inline)
    timeout: float = 60.0  # seconds to wait for an answer (read timeout), every request
    connect_timeout: float = 10.0  # seconds to wait for a connection
    request_budget: float = (
        150.0  # seconds for one request with all its retries: a silent server ends the sync
    )
    retries: int = 6
    max_response_bytes: int = 256 * 2**20  # one answer, after decompression; larger ones are refused
    backoff_base: float = 1.0  # seconds; doubled per attempt, with jitter
    backoff_max: float = 60.0
    overlap_seconds: int = 300  # BMO integration guide: re-search from prev db_time - 5 min

    @property
    def timeouts(self) -> tuple[float, float]:
        return (min(self.connect_timeout, self.timeout), self.timeout)

    @property
    def rest_url(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/rest") else base + "/rest"

    def query(self) -> dict[str, list[str]]:
        """The bug set as search parameters (recorded in sync_runs)."""
        return {"product": list(self.products), "component": list(self.components)}


def api_key_from_env() -> str | None:
    """BUGZILLA_API_KEY, else the first line of ~/.config/bzmine/api_key, else None (anonymous)."""
    key = os.environ.get("BUGZILLA_API_KEY", "").strip()
    if key:
        return key
    if CONFIG_FILE.exists():
        text = CONFIG_FILE.read_text(encoding="utf-8").strip()
        if text:
            return text.splitlines()[0].strip()
    return None


def check(settings: Settings) -> Settings:
    if not settings.url.startswith(("http://", "https://")):
        raise ConfigError(f"--url must start with http:// or https://, got {settings.url!r}")
    from urllib.parse import urlsplit

    from bzmine.http import is_loopback

    try:
        host = urlsplit(settings.url).hostname
    except ValueError as exc:
        raise ConfigError(f"--url is not a valid URL ({exc}): {settings.url!r}") from None
    if not host:
        raise ConfigError(f"--url has no host name: {settings.url!r}")
    if settings.api_key and settings.url.startswith("http://") and not is_loopback(settings.url):
        raise ConfigError(
            f"refusing to send the API key in clear text to {host}: use an https:// --url "
            "(plain http is allowed only for loopback test servers)"
        )
    import math

    if not (
        isinstance(settings.timeout, (int, float))
        and math.isfinite(settings.timeout)
        and 0 < settings.timeout <= 3600
    ):
        raise ConfigError(
            f"--timeout must be a number of seconds between 0 and 3600, got {settings.timeout!r}"
        )
    if not settings.products or not settings.components:
        raise ConfigError("the bug set needs at least one --product and one --component")
    return settings
