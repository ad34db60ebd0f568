"""Shared type names of the control plane."""

from dataclasses import dataclass

from control.domain.permissions import Permission


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user, or an API key acting as its user profile."""

    company_id: str
    user_id: str
    permissions: frozenset[Permission]
    """Closed downward; resolved per request through control/security/principals.py, whose cache is
    emptied by every write to users, permissions, sessions, API keys and companies, so changes apply
    at once."""
    session_id: str | None = None
    """The login session, for a user's access token."""
    api_key_id: str | None = None
    """The key, when an API key is calling."""

    def holds(self, permission: Permission) -> bool:
        return permission in self.permissions
