"""Opaque high-entropy secrets (refresh tokens, API keys, invitations), stored as SHA-256 digests.

A 256-bit random secret needs no slow hash: its digest cannot be brute-forced.
"""

import hashlib
import secrets

API_KEY_PREFIX = "pdm_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + new_secret()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)
