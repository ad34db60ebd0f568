"""The pure attendance fold (control.domain.attendance): every rule by example, and invariants over
random event sequences."""

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from control.domain.attendance import (
    REPORTED_MEDIA,
    ZERO,
    Event,
    Interval,
    Tracker,
    attendance,
    fold,
    merge,
)
from control.domain.attendance import (
    EventKind as K,
)
from control.domain.roles import Role, Source

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(at: float, kind: K, person: str = "ann", participant: str = "", **options: object) -> Event:
    return Event(at=t(at), person=person, kind=kind, participant=participant, **options)  # type: ignore[arg-type]


def one(events: list[Event], until: float):  # type: ignore[no-untyped-def]
    people = attendance(events, t(until))
    assert len(people) == 1
    return people[0]


def secs(span: timedelta) -> float:
    return span.total_seconds()


# --- rules by example --------------------------------------------------------------------------


def test_join_and_leave_give_one_session_and_its_length():
    p = one([ev(0, K.JOINED, name="Ann"), ev(60, K.LEFT)], until=100)
    assert p.name == "Ann" and p.sessions == (Interval(t(0), t(60)),)
    assert secs(p.total) == 60 and not p.present


def test_an_open_session_counts_up_to_until_and_is_reported_present():
    p = one([ev(0, K.JOINED)], until=90)
    assert p.sessions == (Interval(t(0), None),) and secs(p.total) == 90 and p.present


def test_waiting_time_is_excluded_from_the_meeting_and_reported_apart():
    p = one([ev(0, K.WAITING), ev(30, K.ADMITTED), ev(100, K.WAITING), ev(110, K.ADMITTED), ev(150, K.LEFT)], 200)
    assert p.sessions == (Interval(t(30), t(100)), Interval(t(110), t(150)))
    assert secs(p.total) == 110 and secs(p.waiting) == 40


def test_someone_who_only_waited_is_listed_with_no_session():
    p = one([ev(0, K.WAITING, name="Bob"), ev(20, K.LEFT)], until=50)
    assert p.sessions == () and p.total == ZERO and secs(p.waiting) == 20 and not p.present


def test_media_counts_only_while_in_the_meeting_and_stops_at_leave():
    p = one(
        [
            ev(0, K.JOINED),
            ev(10, K.SOURCE_ON, source=Source.MICROPHONE),
            ev(20, K.SOURCE_OFF, source=Source.MICROPHONE),
            ev(30, K.SOURCE_ON, source=Source.MICROPHONE),
            ev(40, K.SOURCE_ON, source=Source.CAMERA),
            ev(50, K.LEFT),  # both go off with the leave
            ev(60, K.JOINED),
            ev(70, K.SOURCE_OFF, source=Source.CAMERA),  # already off: nothing
        ],
        until=100,
    )
    assert secs(p.media["microphone"]) == 10 + 20
    assert secs(p.media["camera"]) == 10
    assert secs(p.total) == 50 + 40


def test_a_source_switched_on_while_waiting_counts_from_admission():
    p = one(
        [
            ev(0, K.WAITING),
            ev(5, K.SOURCE_ON, source=Source.CAMERA),
            ev(30, K.ADMITTED),
            ev(50, K.SOURCE_OFF, source=Source.CAMERA),
        ],
        until=60,
    )
    assert secs(p.media["camera"]) == 20


def test_sent_back_to_the_waiting_room_media_stops_counting():
    p = one(
        [
            ev(0, K.JOINED),
            ev(0, K.SOURCE_ON, source=Source.MICROPHONE),
            ev(40, K.WAITING),
            ev(70, K.ADMITTED),
            ev(100, K.SOURCE_OFF, source=Source.MICROPHONE),
        ],
        until=100,
    )
    assert secs(p.media["microphone"]) == 40 + 30 and secs(p.waiting) == 30


def test_screen_share_is_the_union_of_screen_and_screen_audio():
    p = one(
        [
            ev(0, K.JOINED),
            ev(10, K.SOURCE_ON, source=Source.SCREEN),
            ev(15, K.SOURCE_ON, source=Source.SCREEN_AUDIO),
            ev(20, K.SOURCE_OFF, source=Source.SCREEN),
            ev(25, K.SOURCE_OFF, source=Source.SCREEN_AUDIO),
        ],
        until=30,
    )
    assert secs(p.media["screen_share"]) == 15


def test_two_devices_count_once():
    p = one(
        [
            ev(0, K.JOINED, participant="laptop"),
            ev(10, K.JOINED, participant="phone"),
            ev(10, K.SOURCE_ON, participant="phone", source=Source.MICROPHONE),
            ev(20, K.SOURCE_ON, participant="laptop", source=Source.MICROPHONE),
            ev(30, K.LEFT, participant="laptop"),
            ev(50, K.LEFT, participant="phone"),
        ],
        until=60,
    )
    assert p.sessions == (Interval(t(0), t(50)),) and secs(p.total) == 50
    assert secs(p.media["microphone"]) == 40


def test_waiting_on_one_device_while_in_on_another_is_not_waiting():
    p = one(
        [
            ev(0, K.JOINED, participant="a"),
            ev(10, K.WAITING, participant="b"),
            ev(20, K.LEFT, participant="a"),
            ev(30, K.LEFT, participant="b"),
        ],
        until=40,
    )
    assert secs(p.total) == 20 and secs(p.waiting) == 10


def test_a_rejoin_at_the_same_instant_is_a_second_session():
    p = one([ev(0, K.JOINED), ev(10, K.LEFT), ev(10, K.JOINED), ev(20, K.LEFT)], until=30)
    assert p.sessions == (Interval(t(0), t(10)), Interval(t(10), t(20))) and secs(p.total) == 20


def test_nonsense_changes_nothing_and_never_raises():
    p = one(
        [
            ev(0, K.LEFT),
            ev(1, K.SOURCE_ON, source=Source.CAMERA),
            ev(2, K.SOURCE_OFF, source=Source.SCREEN),
            ev(3, K.JOINED),
            ev(4, K.JOINED),
            ev(5, K.ADMITTED),
            ev(6, K.LEFT),
            ev(7, K.LEFT),
            ev(8, K.SOURCE_ON),
            ev(9, K.ROLE),
        ],
        until=10,
    )
    assert p.sessions == (Interval(t(3), t(6)),) and all(v == ZERO for v in p.media.values())


def test_events_after_until_are_ignored_and_open_stays_clipped():
    p = one([ev(0, K.JOINED), ev(5, K.SOURCE_ON, source=Source.MICROPHONE), ev(50, K.LEFT)], until=20)
    assert p.sessions == (Interval(t(0), None),) and secs(p.total) == 20 and secs(p.media["microphone"]) == 15


def test_late_event_counts_at_the_last_time_seen():
    tracker = Tracker()
    tracker.apply(ev(10, K.JOINED))
    tracker.apply(ev(5, K.LEFT))  # older than the join: happens at 10
    assert tracker.attendance("ann", t(20)).total == ZERO


def test_the_highest_role_is_reported_and_the_current_one_listed():
    tracker = fold(
        [
            ev(0, K.JOINED),
            ev(0, K.ROLE, role=Role.PARTICIPANT),
            ev(10, K.ROLE, role=Role.ORGANIZER),
            ev(20, K.ROLE, role=Role.MODERATOR),
        ],
        t(30),
    )
    assert tracker.attendance("ann", t(30)).role is Role.ORGANIZER
    assert tracker.present()[0].role is Role.MODERATOR


def test_live_list():
    tracker = fold(
        [
            ev(0, K.JOINED, "ann", name="Ann"),
            ev(1, K.SOURCE_ON, "ann", source=Source.MICROPHONE),
            ev(2, K.WAITING, "bob", name="Bob"),
            ev(3, K.JOINED, "cy"),
            ev(4, K.LEFT, "cy"),
            ev(5, K.WAITING, "dee", participant="d1"),
            ev(6, K.JOINED, "dee", participant="d2"),
        ],
        t(10),
    )
    present = tracker.present()
    assert [(p.person, p.waiting) for p in present] == [("ann", False), ("bob", True), ("dee", False)]
    assert present[0].media == frozenset({"microphone"}) and present[0].name == "Ann" and present[0].since == t(0)
    assert present[2].since == t(6)


def test_merge():
    assert merge([Interval(t(5), t(10)), Interval(t(0), t(6)), Interval(t(20), None)], t(30)) == (
        Interval(t(0), t(10)),
        Interval(t(20), None),
    )
    assert merge([Interval(t(0), t(10)), Interval(t(5), None)], t(30)) == (Interval(t(0), None),)
    assert merge([Interval(t(0), t(0)), Interval(t(40), t(50))], t(30)) == ()
    assert merge([Interval(t(0), t(50))], t(30)) == (Interval(t(0), None),)


# --- invariants over random sequences ------------------------------------------------------------

PEOPLE = ("ann", "bob")
CONNECTIONS = ("", "x", "y")

event_strategy = st.builds(
    lambda at, kind, person, participant, source, role: Event(
        at=t(at),
        person=person,
        kind=kind,
        participant=participant and f"{person}-{participant}",
        source=source if kind in (K.SOURCE_ON, K.SOURCE_OFF) else None,
        role=role if kind is K.ROLE else None,
    ),
    st.integers(0, 1000),
    st.sampled_from(list(K)),
    st.sampled_from(PEOPLE),
    st.sampled_from(CONNECTIONS),
    st.sampled_from(list(Source)),
    st.sampled_from(list(Role)),
)
events_strategy = st.lists(event_strategy, max_size=40)
until_strategy = st.integers(0, 1100)


@settings(max_examples=300, deadline=None)
@given(events_strategy, until_strategy)
def test_sessions_are_sorted_disjoint_and_inside_the_window(events, until_s):
    until = t(until_s)
    for p in attendance(events, until):
        for a, b in zip(p.sessions, p.sessions[1:]):
            assert a.end is not None and a.end <= b.start
        for s in p.sessions:
            assert T0 <= s.start <= until
            assert s.end is None or s.start < s.end <= until
        assert p.total == sum((s.length(until) for s in p.sessions), ZERO)
        assert p.present == (bool(p.sessions) and p.sessions[-1].end is None)


@settings(max_examples=300, deadline=None)
@given(events_strategy, until_strategy)
def test_totals_never_exceed_presence_or_the_window(events, until_s):
    until = t(until_s)
    for p in attendance(events, until):
        assert ZERO <= p.total <= until - T0
        assert ZERO <= p.waiting <= until - T0
        assert p.total + p.waiting <= until - T0
        for key in REPORTED_MEDIA:
            assert ZERO <= p.media[key] <= p.total


@settings(max_examples=200, deadline=None)
@given(st.lists(event_strategy, max_size=30, unique_by=lambda e: e.at), until_strategy, st.randoms())
def test_order_of_delivery_does_not_matter_when_times_differ(events, until_s, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert attendance(shuffled, t(until_s)) == attendance(events, t(until_s))


@settings(max_examples=200, deadline=None)
@given(events_strategy, until_strategy)
def test_a_person_is_unaffected_by_everyone_else(events, until_s):
    until = t(until_s)
    together = {p.person: p for p in attendance(events, until)}
    for person, p in together.items():
        alone = attendance([e for e in events if e.person == person], until)
        assert alone == [p]


@settings(max_examples=200, deadline=None)
@given(events_strategy, st.integers(0, 1000), st.integers(0, 100))
def test_time_only_grows(events, until_s, more):
    earlier = {p.person: p for p in attendance(events, t(until_s))}
    later = {p.person: p for p in attendance(events, t(until_s + more))}
    for person, p in earlier.items():
        q = later[person]
        assert q.total >= p.total and q.waiting >= p.waiting
        assert all(q.media[k] >= p.media[k] for k in REPORTED_MEDIA)


@settings(max_examples=200, deadline=None)
@given(events_strategy, until_strategy)
def test_live_list_agrees_with_the_report(events, until_s):
    until = t(until_s)
    tracker = fold(events, until)
    in_meeting = {p.person for p in tracker.present() if not p.waiting}
    assert in_meeting == {p.person for p in attendance(events, until) if p.present}


def test_a_single_connection_is_exact_against_a_step_by_step_model():
    """A brute-force model: walk every second, and count the seconds present and with each source on."""
    rnd = random.Random(7)
    for _ in range(200):
        steps = sorted(rnd.sample(range(1, 200), 25))
        events, place, on = [], "absent", set()
        present_s, media_s = 0, dict.fromkeys(REPORTED_MEDIA, 0)
        timeline = {}
        for at in steps:
            kind = rnd.choice([k for k in K if k is not K.ROLE])
            source = rnd.choice(list(Source))
            events.append(ev(at, kind, source=source if kind in (K.SOURCE_ON, K.SOURCE_OFF) else None))
            timeline[at] = events[-1]
        for second in range(0, 200):
            e = timeline.get(second)
            if e is not None:
                if e.kind in (K.JOINED, K.ADMITTED):
                    place = "present"
                elif e.kind is K.WAITING:
                    place = "waiting"
                elif e.kind is K.LEFT:
                    place, on = "absent", set()
                elif e.kind is K.SOURCE_ON and place != "absent":
                    on.add(e.source)
                elif e.kind is K.SOURCE_OFF:
                    on.discard(e.source)
            if place == "present":
                present_s += 1
                for key, sources in REPORTED_MEDIA.items():
                    media_s[key] += bool(sources & on)
        p = one(events, until=200)
        assert secs(p.total) == present_s
        assert {k: secs(v) for k, v in p.media.items()} == media_s
