"""Settings: where Bugzilla is, which bugs, where data goes, how politely to fetch."""

from __future__ import annotations

import os
import re
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
    sync_memory_mb: int = (
        64  # DuckDB's buffer cap while harvesting: the peak stays flat in the number of bugs
    )

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
    """BUGZILLA_API_KEY, else the first line of ~/.config/bzmine/api_key, else None (anonymous). A key file that
    cannot be read as UTF-8 text (a folder, UTF-16, binary) is a ConfigError saying so."""
    key = os.environ.get("BUGZILLA_API_KEY", "").strip()
    if key:
        return key
    if CONFIG_FILE.exists() or CONFIG_FILE.is_symlink():
        try:
            text = CONFIG_FILE.read_bytes().decode("utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the API key file {CONFIG_FILE} ({exc.strerror or exc}): make it a text file "
                "holding the key on its first line, or remove it"
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(
                f"the API key file {CONFIG_FILE} is not UTF-8 text (UTF-16?): save the key as plain UTF-8 text"
            ) from None
        if text:
            return text.splitlines()[0].strip()
    return None


def env_number(name: str, default: float, low: float, high: float) -> float:
    """A number from an environment variable bzmine reads, checked: a bad value is one line naming the variable."""
    import math

    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"${name} must be a number from {low:g} to {high:g}, got {raw[:40]!r}")
    return value


def check(settings: Settings) -> Settings:
    if not settings.url.startswith(("http://", "https://")):
        raise ConfigError(f"--url must start with http:// or https://, got {settings.url!r}")
    from bzmine.http import check_url, is_loopback

    try:
        host = check_url(settings.url)
    except ValueError as exc:
        raise ConfigError(f"--url is not a valid URL ({exc}): {settings.url!r}") from None
    if settings.api_key and not re.fullmatch(r"[\x21-\x7e]{1,512}", settings.api_key):
        raise ConfigError(
            "the API key ($BUGZILLA_API_KEY or ~/.config/bzmine/api_key) holds spaces, control or non-ASCII "
            "characters, which an HTTP header cannot carry: copy the key again from Bugzilla's preferences"
        )
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
