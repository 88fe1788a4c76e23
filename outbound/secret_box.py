"""Signing secrets sealed with a key kept outside the database.

Deliveries need each subscription's secret in clear to sign, so it cannot be hashed like
an API token. It is stored encrypted (Fernet: AES-128-CBC and HMAC-SHA256) under a key
from ``INCIDENTS_SECRET_KEY`` or a key file, so a dump of the database alone cannot sign
messages that receivers would trust.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SETTING = "INCIDENTS_SECRET_KEY"


class SecretKeyMismatch(Exception):
    """A sealed secret does not open with the configured key."""


class SecretBox:
    """Seals and opens signing secrets with one Fernet key."""

    __slots__ = ("_fernet",)

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(_valid_key(key, SETTING))

    def __repr__(self) -> str:
        return "SecretBox(key=<hidden>)"

    def seal(self, secret: str) -> str:
        """The secret encrypted and authenticated, as URL-safe text."""
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The secret ``seal`` was given; SecretKeyMismatch when this key did not seal it."""
        try:
            return self._fernet.decrypt(sealed).decode()
        except (InvalidToken, ValueError):
            # A non-ASCII text fails to decode before Fernet can call it an invalid token.
            raise SecretKeyMismatch(
                f"a stored signing secret does not open with this {SETTING}: it was sealed"
                f" with another key. Set {SETTING} to the key it was sealed with, or rotate"
                " the subscription's secret."
            ) from None


def _valid_key(key: str, source: str) -> str:
    """The key, stripped, once Fernet accepts it; the error names ``source``, never the key."""
    key = key.strip()
    try:
        Fernet(key)
    except ValueError:
        raise ValueError(
            f"{source} is not a Fernet key (32 bytes in URL-safe base64, 44 characters);"
            ' make one with: python -c "from cryptography.fernet import Fernet;'
            ' print(Fernet.generate_key().decode())"'
        ) from None
    return key


def load_key(configured: str | None, key_file: Path) -> str:
    """The configured key, else the key in ``key_file``, which is made on first use.

    A blank setting counts as none. The file is written whole under a temporary name and
    linked into place, so no reader sees it half written, and when two processes start
    together the first link wins: the other one reads that key instead of its own.
    """
    if configured is not None and configured.strip():
        return _valid_key(configured, SETTING)
    if not key_file.exists():
        _create_key_file(key_file)
    return _valid_key(key_file.read_bytes().decode("ascii", "replace"), f"the key file {key_file}")


def _create_key_file(key_file: Path) -> None:
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file 0600 whatever the umask: the key is never readable by others,
    # not even for a moment.
    descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(Fernet.generate_key() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        # os.replace would let the last of two racing processes win and strand secrets the
        # first one sealed in the meantime; a link fails when the name exists already.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, key_file)
    finally:
        os.unlink(temporary)
    _sync_directory(key_file.parent)


def _sync_directory(directory: Path) -> None:
    """Make the new name durable: a crash must not lose a key that secrets were sealed with."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
