"""Which hosts a provider key may be sent to: the provider's own host, or an operator's allow-list.

A base URL decides where the SDK sends the API key in full. An admin (or an admin-scope token)
who could point it anywhere could collect the platform key — and producers' own keys — so every
base URL is checked against `PROVIDER_BASE_URL_ALLOWLIST` when it is set (admin page, API, CLI,
environment at start-up) and again right before a key is sent (services.keys.base_url_for), so a
URL stored before the allow-list changed is never used.

Allow-list entries (comma-separated):
  * `https://gateway.example.com` — that scheme and host, any port;
  * `https://gateway.example.com:8443` — that scheme, host and port (the default port counts:
    `https://h:443` matches `https://h/v1`);
  * `gateway.example.com` (or `gateway.example.com:8443`) — a bare host means https only.
Hosts compare exactly (case-insensitive); there are no wildcards, so `example.com` does not allow
`evil.example.com`. The providers' own hosts (https only) are always allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

OFFICIAL_HOSTS: dict[str, str] = {
    "openai": "api.openai.com",
    "gemini": "generativelanguage.googleapis.com",
    "runway": "api.dev.runwayml.com",
    "huggingface": "router.huggingface.co",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BaseUrlRefused(ValueError):
    """The URL's host is not allowed for provider keys; the message says what the operator does."""


@dataclass(frozen=True)
class Rule:
    scheme: str
    host: str
    port: int | None  # None: any port

    def matches(self, scheme: str, host: str, port: int) -> bool:
        return scheme == self.scheme and host == self.host and (self.port is None or port == self.port)


def parse_allowlist(text: str | None) -> tuple[Rule, ...]:
    """Rules from the setting; ValueError naming the entry that is not an origin or a host."""
    rules = []
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        parts = urlsplit(entry if "://" in entry else f"https://{entry}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"PROVIDER_BASE_URL_ALLOWLIST: {entry!r} has an invalid port.") from None
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path.strip("/"):
            raise ValueError(
                f"PROVIDER_BASE_URL_ALLOWLIST: {entry!r} is not an origin (https://host[:port]) or a host."
            )
        rules.append(Rule(parts.scheme, parts.hostname.lower(), port))
    return tuple(rules)


def is_allowed(url: str, provider_name: str, allowlist: str | None) -> bool:
    """True when a key for `provider_name` may be sent to `url`."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return False
    scheme, host = parts.scheme, parts.hostname.lower()
    port = port or _DEFAULT_PORTS[scheme]
    official = OFFICIAL_HOSTS.get(provider_name)
    if official and Rule("https", official, 443).matches(scheme, host, port):
        return True
    return any(rule.matches(scheme, host, port) for rule in parse_allowlist(allowlist))


def check(url: str | None, provider_name: str, allowlist: str | None) -> str | None:
    """`url` unchanged when allowed (None stays None: the SDK's own host); else BaseUrlRefused."""
    if not url:
        return None
    if not is_allowed(url, provider_name, allowlist):
        host = urlsplit(url.strip()).hostname or url
        own = OFFICIAL_HOSTS.get(provider_name)
        raise BaseUrlRefused(
            f"{host} is not an allowed host for provider keys. Keys go only to the provider's own host"
            + (f" ({own})" if own else "")
            + " or to a host the operator lists in PROVIDER_BASE_URL_ALLOWLIST."
        )
    return url
