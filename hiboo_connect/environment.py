"""Typed readers for environment variables: a bad value stops the start with a message naming the variable."""

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str = "", schemes: tuple[str, ...] = ()) -> str:
    """The URL in `name`; unset or empty (`DATABASE_URL=`) both mean the default."""
    raw = os.environ.get(name, "").strip() or default
    if not raw:
        return raw
    parsed = urlparse(raw)
    if not parsed.scheme or (schemes and parsed.scheme not in schemes):
        expected = ", ".join(f"{scheme}://" for scheme in schemes) or "a URL with a scheme"
        raise ImproperlyConfigured(f"{name} must be a URL starting with {expected}, not {raw!r}.")
    return raw


def env_proxy_header(name: str) -> tuple[str, str] | None:
    """A proxy's HTTPS header as `Header-Name: value` (`X-Forwarded-Proto: https`), in the form Django's
    SECURE_PROXY_SSL_HEADER wants (`("HTTP_X_FORWARDED_PROTO", "https")`); None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, separator, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    if not separator or not header or not value or " " in header:
        raise ImproperlyConfigured(f"{name} must read `Header-Name: value` (X-Forwarded-Proto: https), not {raw!r}.")
    return "HTTP_" + header.upper().replace("-", "_"), value


_RATE_PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def env_rate(name: str, default: str) -> str:
    """A rate as `requests/period` (`1200/minute`; the period is second, minute, hour or day, or its first letter),
    as Django REST framework's throttles read it."""
    raw = os.environ.get(name, "").strip() or default
    count, separator, period = raw.partition("/")
    if not separator or not count.strip().isdigit() or int(count) < 1 or period.strip()[:1] not in _RATE_PERIODS:
        raise ImproperlyConfigured(f"{name} must read requests/period (1200/minute; period s, m, h or d), not {raw!r}.")
    return f"{int(count)}/{_RATE_PERIODS[period.strip()[0]]}"
