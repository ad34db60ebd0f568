from hypothesis import given
from hypothesis import strategies as st

from control.domain.invitations import Invitation, check_issue, check_redeem, issue, redeem, revoke, revoke_for
from control.domain.meeting_state import Code, Ok, Refused, Removal
from control.domain.roles import ALL_CAPABILITIES, Capability

START, END = 1000.0, 2000.0


def invitation(**kw) -> Invitation:
    fields = dict(
        invitation_id="inv1",
        room="room1",
        issuer="alice",
        issuer_rights=ALL_CAPABILITIES,
        invitee_name="Guest Gus",
        invitee="guest:gus@example.org",
        rights={Capability.MICROPHONE, Capability.CHAT},
        not_before=START,
        not_after=END,
        now=START,
    )
    fields.update(kw)
    result = issue(**fields)
    assert isinstance(result, Invitation), result
    return result


def code(result) -> Code:
    assert isinstance(result, Refused), result
    return result.code


# --- issuing ---------------------------------------------------------------------------------


def test_issued_invitation_is_personalized():
    inv = invitation(invitee_name="  Guest Gus ")
    assert inv.invitee_name == "Guest Gus" and inv.invitee == "guest:gus@example.org"
    assert inv.rights == {Capability.MICROPHONE, Capability.CHAT}
    assert inv.browser is None and not inv.revoked


def test_invitee_must_be_named():
    assert code(issue(**_fields(invitee_name="   "))) is Code.INVITEE_NAME_REQUIRED
    assert code(issue(**_fields(invitee=""))) is Code.INVITEE_NAME_REQUIRED


def test_window_must_not_be_empty():
    assert code(issue(**_fields(not_before=END, not_after=END))) is Code.INVALID_WINDOW
    assert code(issue(**_fields(not_before=END, not_after=START))) is Code.INVALID_WINDOW


def test_window_must_not_have_ended():
    # a fresh-clone trial issued one whose whole window lay in the past (201), where a group link's
    # expiry in the past is refused (409 expiry_in_past)
    assert code(issue(**_fields(now=END))) is Code.EXPIRY_IN_PAST
    assert code(issue(**_fields(now=END + 3600))) is Code.EXPIRY_IN_PAST
    assert isinstance(issue(**_fields(now=END - 1)), Invitation)  # ends later: issued, not yet valid or valid


def test_issued_only_with_rights_the_issuer_holds():
    refused = issue(**_fields(issuer_rights={Capability.CHAT}, rights={Capability.CHAT, Capability.CAMERA}))
    assert code(refused) is Code.RIGHTS_NOT_HELD and "camera" in refused.message


@given(st.frozensets(st.sampled_from(Capability)), st.frozensets(st.sampled_from(Capability)))
def test_check_issue_is_subset(issuer, requested):
    result = check_issue(issuer, requested)
    assert isinstance(result, Ok) is (requested <= issuer)
    if isinstance(result, Refused):
        assert result.code is Code.RIGHTS_NOT_HELD


def _fields(**kw):
    fields = dict(
        invitation_id="inv1",
        room="room1",
        issuer="alice",
        issuer_rights=ALL_CAPABILITIES,
        invitee_name="Guest Gus",
        invitee="guest:gus",
        rights=set(),
        not_before=START,
        not_after=END,
        now=START,
    )
    fields.update(kw)
    return fields


# --- redeeming -------------------------------------------------------------------------------


def test_valid_only_inside_the_window():
    inv = invitation()
    assert code(check_redeem(inv, START - 1, "b1")) is Code.NOT_YET_VALID
    assert isinstance(check_redeem(inv, START, "b1"), Ok)
    assert isinstance(check_redeem(inv, END - 0.001, "b1"), Ok)
    assert code(check_redeem(inv, END, "b1")) is Code.EXPIRED


def test_refusals_give_the_window_as_instants():
    # the guest page shows when an invitation opens; it read raw Unix seconds ("valid from 1796649121")
    inv = invitation(not_before=1_796_649_121.0, not_after=1_796_652_721.0, now=1_796_649_121.0)
    assert check_redeem(inv, 1_796_649_120.0, "b1").message == "this invitation is valid from 2026-12-07T13:12:01Z"
    assert check_redeem(inv, 1_796_652_721.0, "b1").message == "this invitation expired at 2026-12-07T14:12:01Z"


def test_single_use_and_bound_to_the_redeeming_browser():
    inv = redeem(invitation(), START, "browser-1")
    assert isinstance(inv, Invitation) and inv.browser == "browser-1"
    again = redeem(inv, START + 10, "browser-1")
    assert again == inv  # the same browser may open it again
    assert code(redeem(inv, START + 10, "browser-2")) is Code.ALREADY_USED_ELSEWHERE
    assert code(check_redeem(inv, START + 10, "")) is Code.MISSING_ARGUMENT


def test_revocable():
    inv = revoke(redeem(invitation(), START, "b1"))
    assert code(check_redeem(inv, START, "b1")) is Code.REVOKED


def test_removed_or_banned_invitee_cannot_redeem():
    inv = invitation()
    removals = [Removal("guest:gus@example.org", START + 100)]
    assert code(check_redeem(inv, START + 50, "b1", removals=removals)) is Code.REMOVED
    assert isinstance(check_redeem(inv, START + 100, "b1", removals=removals), Ok)
    assert code(check_redeem(inv, START, "b1", bans={"guest:gus@example.org"})) is Code.BANNED
    assert code(check_redeem(inv, START, "b1", excluded={"guest:gus@example.org"})) is Code.EXCLUDED
    assert isinstance(check_redeem(inv, START, "b1", bans={"someone-else"}), Ok)


def test_revoke_for_a_person_revokes_all_their_live_invitations():
    mine = [invitation(invitation_id="a"), invitation(invitation_id="b")]
    other = invitation(invitation_id="c", invitee="guest:other")
    revoked = revoke_for([*mine, other, revoke(invitation(invitation_id="d"))], "guest:gus@example.org")
    assert [i.id for i in revoked] == ["a", "b"] and all(i.revoked for i in revoked)


@given(
    now=st.floats(0, 3000, allow_nan=False),
    bound=st.sampled_from([None, "b1", "b2"]),
    browser=st.sampled_from(["b1", "b2"]),
    revoked=st.booleans(),
    banned=st.booleans(),
    removed_until=st.sampled_from([None, 500.0, 1500.0, 2500.0]),
)
def test_redeem_accepts_exactly_when_every_condition_holds(now, bound, browser, revoked, banned, removed_until):
    inv = Invitation("i", "r", "alice", "Gus", "gus", frozenset(), START, END, revoked=revoked, browser=bound)
    removals = [] if removed_until is None else [Removal("gus", removed_until)]
    result = check_redeem(inv, now, browser, removals=removals, bans={"gus"} if banned else set())
    ok = (
        not revoked
        and not banned
        and (removed_until is None or now >= removed_until)
        and START <= now < END
        and bound in (None, browser)
    )
    assert isinstance(result, Ok) is ok
    redeemed = redeem(inv, now, browser, removals=removals, bans={"gus"} if banned else set())
    if ok:
        assert redeemed.browser == browser
    else:
        assert isinstance(redeemed, Refused) and redeemed.code is result.code
