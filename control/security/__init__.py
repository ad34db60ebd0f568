"""Credentials: password hashes, signed access tokens, opaque secrets."""
