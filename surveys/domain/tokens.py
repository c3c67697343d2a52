"""Random invite tokens (stored only as hashes) and random pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford base32 without look-alikes, so a pseudonym can be read aloud or typed.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_token() -> str:
    """A deep-link token: 128 random bits as 22 base64url characters (Telegram allows 64)."""
    return secrets.token_urlsafe(16)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_pseudonym() -> str:
    """A random pseudonym like 'P-7K3M9QX2TA' (50 bits), never derived from a Telegram id."""
    return "P-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def pseudonymise_actor(user_id: int, key: str) -> str:
    """A keyed hash of an admin's Telegram id for the audit log: stable, not reversible."""
    digest = hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return "A-" + digest[:12]
