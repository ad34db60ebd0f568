"""Secrets Podium must use again, not just recognise (a webhook's signing secret), sealed at rest with
Fernet (AES-128-CBC and HMAC-SHA256, `cryptography`) under a key derived from the instance's
token-signing key. Where that key is kept outside the database (`Settings.token_key`), a copy of the
database alone does not give the secrets away; and they never show in a row's repr or a log. Changing
the token key makes sealed secrets unreadable: they are issued again.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"podium sealed secrets v1"


class Unsealable(Exception):
    """Sealed under another key, or altered."""


def _fernet(token_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(token_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(token_key: str, secret: str) -> str:
    return _fernet(token_key).encrypt(secret.encode()).decode()


def unseal(token_key: str, sealed: str) -> str:
    try:
        return _fernet(token_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unsealable("the secret was sealed under another key, or altered") from None
