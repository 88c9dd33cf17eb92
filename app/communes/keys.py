"""API keys: made at random, kept only as their SHA-256, compared in constant time.

A key is 32 random bytes from :mod:`secrets` (256 bits), written in URL-safe base64 so that
it fits an ``Authorization: Bearer`` header. The store keeps its SHA-256 only: a stolen
store gives no key. A salted slow hash (bcrypt, argon2) is what passwords need, because
people choose them from a small space; 256 random bits cannot be guessed, and a plain hash
lets a request find its key with one indexed look-up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

#: Random bytes in a key: at least 32, as the communes' security policy asks.
KEY_BYTES = 32

#: INSEE commune codes: five digits, or 2A/2B and three digits in Corsica.
INSEE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def new_key() -> str:
    """A new random key, shown once to whoever creates it.

    >>> len(new_key()) >= 43  # 32 bytes in base64 without padding
    True
    """
    return secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """The SHA-256 of a key, in hexadecimal: the only form the store keeps.

    >>> hash_key("abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def same_hash(stored: str, presented_key: str) -> bool:
    """Whether ``presented_key`` hashes to ``stored``, compared in constant time."""
    return hmac.compare_digest(stored.encode("ascii"), hash_key(presented_key).encode("ascii"))


@dataclass(frozen=True)
class KeyScope:
    """What a key may reach.

    Attributes
    ----------
    key_id : int
        The key's id in the store.
    label : str
        Its label (who holds it), journaled with every write; never the key itself.
    communes : frozenset of str or None
        The INSEE codes of its communes; None for a territory key (the PMA), which reaches
        every commune and the collective operation.
    """

    key_id: int
    label: str
    communes: frozenset[str] | None

    @property
    def territory(self) -> bool:
        """Whether the key reaches the whole territory."""
        return self.communes is None

    def covers(self, insee: str) -> bool:
        """Whether the key reaches the commune ``insee``.

        >>> KeyScope(1, "Lens", frozenset({"62498"})).covers("62510")
        False
        >>> KeyScope(2, "PMA", None).covers("62510")
        True
        """
        return self.communes is None or insee in self.communes


@dataclass(frozen=True)
class KeyInfo:
    """A key as ``cadastre keys list`` shows it (the key itself is never kept).

    Attributes
    ----------
    key_id : int
    label : str
    communes : frozenset of str or None
        None for a territory key.
    created_at : datetime.datetime
        UTC.
    revoked_at : datetime.datetime or None
        UTC; None while the key is valid.
    """

    key_id: int
    label: str
    communes: frozenset[str] | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
