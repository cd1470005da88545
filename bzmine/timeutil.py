"""The one helper that turns Bugzilla timestamps into aware UTC datetimes."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bzmine.errors import ConfigError

BMO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_bmo_time(value: str | None) -> datetime | None:
    """Parse `2024-03-20T22:30:12Z` (or a bare date) into aware UTC; None stays None."""
    if value is None or value == "":
        return None
    text = value.strip()
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def format_bmo_time(dt: datetime) -> str:
    """Format an aware datetime the way BMO writes it (UTC, `Z` suffix, seconds)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime(BMO_FORMAT)


def utcnow() -> datetime:
    """Now, aware UTC (one place, so tests and --as-of can reason about it)."""
    return datetime.now(timezone.utc)


def to_timestamp(value: str | date | datetime | None) -> datetime | None:
    """A date means 00:00:00 UTC of that day; naive datetimes are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"not a date or time: {value!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC)"
            ) from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt
