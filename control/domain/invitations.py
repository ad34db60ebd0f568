"""Guest invitation links: who may issue them, and when a link lets its holder in.

Pure validation over plain data; the store keeps `Invitation` rows and the service calls these
functions with `now` and the redeeming browser's binding (an opaque, stable per-browser value such
as the hash of a long-lived cookie).

An invitation is
- personalized: issued for one named invitee, whose stable person key is what removals and bans
  apply to;
- valid only inside its window `not_before <= now < not_after` (refused before it and after it);
- single-use and bound to the browser that redeemed it first: that browser may open it again, any
  other browser is refused;
- revocable (and revoked at once when its invitee is removed or banned);
- issued only with rights the issuer holds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from control.domain.meeting_state import Code, Ok, Refused, Removal, entry_refusal
from control.domain.roles import Capability


@dataclass(frozen=True)
class Invitation:
    """One personalized invitation link."""

    id: str
    """Identifier carried by the link (the link also carries an unguessable secret, checked elsewhere)."""
    room: str
    """The room it admits to."""
    issuer: str
    """Person key of the issuer."""
    invitee_name: str
    """The invitee's name, as shown in the meeting and the waiting room."""
    invitee: str
    """The invitee's stable person key: removals and bans apply to it."""
    rights: frozenset[Capability]
    """Capabilities the guest starts the meeting with (a subset of the issuer's)."""
    not_before: float
    """Start of the window (inclusive), seconds since the epoch."""
    not_after: float
    """End of the window (exclusive), seconds since the epoch."""
    revoked: bool = False
    """Revoked by its issuer, a moderator, or a removal of its invitee."""
    browser: str | None = None
    """Binding of the browser that redeemed it; None until first redeemed."""


def check_issue(issuer_rights: Iterable[Capability], requested_rights: Iterable[Capability]) -> Ok | Refused:
    """An invitation may carry only rights the issuer holds."""
    missing = frozenset(requested_rights) - frozenset(issuer_rights)
    if missing:
        names = ", ".join(sorted(missing))
        return Refused(Code.RIGHTS_NOT_HELD, f"the issuer does not hold: {names}")
    return Ok()


def issue(
    *,
    invitation_id: str,
    room: str,
    issuer: str,
    issuer_rights: Iterable[Capability],
    invitee_name: str,
    invitee: str,
    rights: Iterable[Capability],
    not_before: float,
    not_after: float,
    now: float,
) -> Invitation | Refused:
    """A new invitation at `now`, or why it cannot be issued (unnamed invitee, empty window, a window
    that has ended already, rights not held)."""
    name = invitee_name.strip()
    if not name or not invitee:
        return Refused(Code.INVITEE_NAME_REQUIRED, "an invitation names its invitee")
    if not not_before < not_after:
        return Refused(Code.INVALID_WINDOW, "an invitation's window must end after it starts")
    if not_after <= now:
        return Refused(Code.EXPIRY_IN_PAST, "an invitation's window must not have ended already")
    rights = frozenset(rights)
    checked = check_issue(issuer_rights, rights)
    if isinstance(checked, Refused):
        return checked
    return Invitation(invitation_id, room, issuer, name, invitee, rights, not_before, not_after)


def check_redeem(
    invitation: Invitation,
    now: float,
    browser: str,
    *,
    removals: Iterable[Removal] = (),
    bans: Iterable[str] = (),
    excluded: Iterable[str] = (),
) -> Ok | Refused:
    """Whether opening `invitation` from `browser` at `now` lets its invitee in.

    Checked in order: revoked; the invitee banned, removed for a period that has not ended, or
    excluded from the running meeting; the window (not_yet_valid, expired); the browser binding
    (already_used_elsewhere — the browser that redeemed it may open it again).
    """
    if not browser:
        return Refused(Code.MISSING_ARGUMENT, "a browser binding is required")
    # a ban or removal also revokes the invitation: the invitee is told the ban, not the revocation
    refused = entry_refusal(invitation.invitee, now, removals=removals, bans=bans, excluded=excluded)
    if refused is not None:
        return refused
    if invitation.revoked:
        return Refused(Code.REVOKED, "this invitation was revoked")
    if now < invitation.not_before:
        return Refused(Code.NOT_YET_VALID, f"this invitation is valid from {instant(invitation.not_before)}")
    if now >= invitation.not_after:
        return Refused(Code.EXPIRED, f"this invitation expired at {instant(invitation.not_after)}")
    if invitation.browser is not None and invitation.browser != browser:
        return Refused(Code.ALREADY_USED_ELSEWHERE, "this invitation was already used in another browser")
    return Ok()


def instant(seconds: float) -> str:
    """A Unix time as the API writes instants: ISO 8601, UTC, to the second ("2026-12-07T14:00:00Z")."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def redeem(
    invitation: Invitation,
    now: float,
    browser: str,
    *,
    removals: Iterable[Removal] = (),
    bans: Iterable[str] = (),
    excluded: Iterable[str] = (),
) -> Invitation | Refused:
    """`check_redeem`, then the invitation bound to `browser` (unchanged if it already was)."""
    checked = check_redeem(invitation, now, browser, removals=removals, bans=bans, excluded=excluded)
    if isinstance(checked, Refused):
        return checked
    return replace(invitation, browser=browser)


def revoke(invitation: Invitation) -> Invitation:
    """The invitation, revoked: every later redemption is refused."""
    return replace(invitation, revoked=True)


def revoke_for(invitations: Iterable[Invitation], person: str) -> list[Invitation]:
    """The invitations of `person` that a `RevokeTokens(person, …)` effect revokes, revoked."""
    return [revoke(i) for i in invitations if i.invitee == person and not i.revoked]
