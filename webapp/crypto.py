"""Key vaults: provider keys encrypted at rest with MultiFernet.

Two separate key sets: one for platform keys (PLATFORM_KEYS_FERNET) and one for producers' own
keys (USER_KEYS_FERNET), so a leak of one set exposes only its half. Each variable is a
comma-separated list, newest first: MultiFernet decrypts with any of them and encrypts with the
first, which is what makes rotation (`flask keys rotate`) possible without downtime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from webapp.config import INSTANCE_DIR

if TYPE_CHECKING:  # `cryptography` loads when a vault is first used, not at start-up (issue 18)
    from cryptography.fernet import Fernet, MultiFernet

log = logging.getLogger(__name__)


class VaultError(RuntimeError):
    """The ciphertext could not be decrypted with any configured key (wrong or rotated-out key)."""


@dataclass
class Vault:
    name: str
    _fernet: MultiFernet
    key_count: int

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken as exc:
            raise VaultError(
                f"A stored {self.name} key cannot be decrypted with the configured keys: "
                "was an old encryption key removed before `flask keys rotate` ran?"
            ) from exc

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key (no-op content-wise). VaultError when no configured key
        opens it — the usual operator mistake of removing the old key before rotating."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken as exc:
            var = f"{self.name.upper()}_KEYS_FERNET"
            raise VaultError(
                f"A stored {self.name} key cannot be decrypted with any key in {var}. Rotation needs "
                f"both keys: put the NEW key first and keep the OLD key after it ({var}=new,old), run "
                "`flask keys rotate`, and only then remove the old key. Nothing was changed."
            ) from exc


def parse_keys(value: str) -> list[Fernet]:
    from cryptography.fernet import Fernet

    keys = [k.strip() for k in value.split(",") if k.strip()]
    try:
        return [Fernet(k.encode()) for k in keys]
    except (ValueError, TypeError) as exc:
        raise ValueError(
            "Fernet keys must be url-safe base64 of 32 bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        ) from exc


def _development_keys(name: str) -> str:
    """Development only: a per-checkout key kept in instance/, so keys survive restarts."""
    path = INSTANCE_DIR / f"dev-{name}-fernet"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    path.write_text(key)
    path.chmod(0o600)
    log.warning("%s not set: generated a development key in %s", name.upper(), path)
    return key


def _vault(config_key: str, name: str) -> Vault:
    cache = current_app.extensions.setdefault("marquee_vaults", {})
    if name in cache:
        return cache[name]
    value = current_app.config.get(config_key) or ""
    if not value:
        if current_app.config.get("ENV_NAME") == "production":
            raise VaultError(f"{config_key} is not set: production refuses to store keys without it.")
        value = _development_keys(name)
    fernets = parse_keys(value)
    from cryptography.fernet import MultiFernet

    vault = Vault(name=name, _fernet=MultiFernet(fernets), key_count=len(fernets))
    cache[name] = vault
    return vault


def platform_vault() -> Vault:
    return _vault("PLATFORM_KEYS_FERNET", "platform")


def user_vault() -> Vault:
    return _vault("USER_KEYS_FERNET", "user")
