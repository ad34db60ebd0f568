from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from control.domain.meeting_state import (
    Code,
    GateConsumer,
    GateProducer,
    MediaPlan,
    MeetingState,
    Participant,
    Removal,
    entry_refusal,
    media_plan,
    plan_changes,
    removed_until,
)
from control.domain.roles import ALL_CAPABILITIES, REQUIRED_CAPABILITY, VISIT_SOURCES, Capability, Role, Source

ALL_SOURCES = frozenset(Source)


def person(pid, **kw):
    kw.setdefault("capabilities", ALL_CAPABILITIES)
    kw.setdefault("sources_on", ALL_SOURCES)
    return Participant(pid, "person-" + pid, registered=kw.pop("registered", True), **kw)


def meeting(*participants, **kw):
    state = MeetingState(**kw)
    for p in participants:
        state = state.put(p)
    return state


# --- the data -------------------------------------------------------------------------------


def test_put_keeps_join_order_and_replaces():
    state = meeting(person("b", joined_at=2), person("a", joined_at=2), person("c", joined_at=1))
    assert [p.id for p in state.participants] == ["c", "a", "b"]
    state = state.put(replace(state.get("a"), floor=True))
    assert [p.id for p in state.participants] == ["c", "a", "b"]
    assert state.get("a").floor


def test_drop_ends_visits_to_and_by_the_dropped():
    state = meeting(person("m", role=Role.MODERATOR, visiting="w"), person("w", waiting=True))
    assert state.drop("w").get("m").visiting is None
    assert state.drop("m").visitor_of("w") is None


def test_queries():
    state = meeting(
        person("o", role=Role.ORGANIZER, joined_at=0),
        person("m", role=Role.MODERATOR, joined_at=1),
        person("p", joined_at=2),
        person("w", joined_at=3, waiting=True),
    )
    assert state.organizer().id == "o"
    assert [p.id for p in state.moderators()] == ["o", "m"]
    assert [p.id for p in state.admitted()] == ["o", "m", "p"]
    assert [p.id for p in state.waiting()] == ["w"]
    assert state.of_person("person-p") == (state.get("p"),)
    assert state.get("nobody") is None


# --- entry ----------------------------------------------------------------------------------


def test_removal_runs_until_its_end_exclusive():
    removals = [Removal("x", 100.0), Removal("x", 50.0), Removal("y", 200.0)]
    assert removed_until(removals, "x", 10) == 100.0
    assert removed_until(removals, "x", 99.9) == 100.0
    assert removed_until(removals, "x", 100.0) is None
    assert removed_until(removals, "z", 10) is None


def test_entry_refusals_in_order():
    everything = dict(removals=[Removal("x", 100.0)], bans=["x"], excluded=["x"])
    assert entry_refusal("x", 0, **everything).code is Code.BANNED
    assert entry_refusal("x", 0, removals=[Removal("x", 100.0)], excluded=["x"]).code is Code.REMOVED
    assert entry_refusal("x", 100.0, removals=[Removal("x", 100.0)], excluded=["x"]).code is Code.EXCLUDED
    assert entry_refusal("x", 100.0, removals=[Removal("x", 100.0)]) is None
    assert entry_refusal("y", 0, **everything) is None


# --- the media matrix: examples -----------------------------------------------------------


def test_admitted_media_goes_to_every_other_admitted_participant():
    plan = media_plan(meeting(person("a"), person("b"), person("c"), person("w", waiting=True)))
    for pid in "abc":
        for source in Source:
            assert plan.is_open(pid, source)
            assert plan.audiences[(pid, source)] == set("abc") - {pid}


def test_source_off_or_capability_missing_closes_the_producer():
    state = meeting(
        person("off", sources_on=frozenset()),
        person("revoked", capabilities=ALL_CAPABILITIES - {Capability.MICROPHONE, Capability.SCREEN_SHARE}),
    )
    plan = media_plan(state)
    assert not any(plan.is_open("off", s) for s in Source)
    assert plan.open_producers == {("revoked", Source.CAMERA)}
    assert plan.audiences[("off", Source.CAMERA)] == {"revoked"}


def test_presenter_mode_does_not_apply_to_visits():
    state = meeting(
        person("m", role=Role.MODERATOR, visiting="w"),
        person("w", waiting=True),
        presenter_mode=True,
    )
    plan = media_plan(state)
    assert plan.is_open("m", Source.MICROPHONE) and plan.is_open("w", Source.MICROPHONE)


def test_presenter_mode_closes_microphones_without_the_floor_only():
    plan = media_plan(meeting(person("speaker", floor=True), person("audience"), presenter_mode=True))
    assert plan.is_open("speaker", Source.MICROPHONE)
    assert not plan.is_open("audience", Source.MICROPHONE)
    assert plan.is_open("audience", Source.CAMERA)
    assert plan.is_open("audience", Source.SCREEN)


def test_waiting_room_isolates_both_ways():
    plan = media_plan(meeting(person("a"), person("w", waiting=True), person("v", waiting=True)))
    for source in Source:
        assert not plan.is_open("w", source)
        assert plan.audiences[("w", source)] == frozenset()
        assert plan.audiences[("a", source)] == frozenset()


def test_a_visit_connects_one_moderator_and_one_waiting_person_by_audio_and_video_only():
    """Two-way microphone and camera between that moderator and that person only."""
    state = meeting(
        person("m", role=Role.MODERATOR, visiting="w"),
        person("other"),
        person("w", waiting=True),
        person("w2", waiting=True),
    )
    plan = media_plan(state)
    for source in Source:
        visited = source in VISIT_SOURCES
        assert plan.is_open("w", source) is visited
        assert plan.audiences[("w", source)] == ({"m"} if visited else set())
        assert plan.may_receive("m", source, "w") is visited
        assert not plan.may_receive("other", source, "w")
        assert not plan.may_receive("w", source, "other")
        assert not plan.is_open("w2", source)
        assert not any(plan.may_receive(pub, source, "w2") for pub in ["m", "other", "w"])
    # a visit is private: the meeting does not hear or see the visitor meanwhile, except their screen
    assert plan.audiences[("m", Source.MICROPHONE)] == {"w"}
    assert plan.audiences[("m", Source.CAMERA)] == {"w"}
    assert plan.audiences[("m", Source.SCREEN)] == {"other"}


def test_a_visited_person_still_needs_the_capability():
    state = meeting(
        person("m", role=Role.MODERATOR, visiting="w"),
        person("w", waiting=True, capabilities=frozenset({Capability.CAMERA})),
    )
    plan = media_plan(state)
    assert plan.open_producers >= {("w", Source.CAMERA)}
    assert not plan.is_open("w", Source.MICROPHONE)


def test_an_ended_meeting_forwards_nothing():
    plan = media_plan(meeting(person("a"), person("b"), ended=True))
    assert plan.open_producers == frozenset()
    assert set(plan.routes()) == set()


# --- the media matrix: properties over arbitrary states -------------------------------------


@st.composite
def states(draw):
    n = draw(st.integers(0, 6))
    people = []
    for i in range(n):
        people.append(
            Participant(
                f"p{i}",
                f"person{i}",
                registered=draw(st.booleans()),
                role=draw(st.sampled_from(Role)),
                joined_at=draw(st.integers(0, 3)),
                waiting=draw(st.booleans()),
                capabilities=draw(st.frozensets(st.sampled_from(Capability))),
                sources_on=draw(st.frozensets(st.sampled_from(Source))),
                floor=draw(st.booleans()),
            )
        )
    waiting = [p.id for p in people if p.waiting]
    visited = set()
    for i, p in enumerate(people):
        free = [w for w in waiting if w not in visited]
        if p.admitted and p.role.moderates and free and draw(st.booleans()):
            w = draw(st.sampled_from(free))
            visited.add(w)
            people[i] = replace(p, visiting=w)
    state = MeetingState(presenter_mode=draw(st.booleans()), ended=draw(st.booleans()))
    for p in people:
        state = state.put(p)
    return state


def apply(plan: MediaPlan, changes) -> MediaPlan:
    producers = set(plan.open_producers)
    audiences = {k: set(v) for k, v in plan.audiences.items()}
    for change in changes:
        if isinstance(change, GateProducer):
            (producers.add if change.open else producers.discard)((change.participant, change.source))
        else:
            assert isinstance(change, GateConsumer)
            subs = audiences.setdefault((change.publisher, change.source), set())
            (subs.add if change.open else subs.discard)(change.subscriber)
    return MediaPlan(frozenset(producers), {k: frozenset(v) for k, v in audiences.items()})


def routes(plan):
    return set(plan.routes())


@given(states())
def test_plan_is_total_and_never_forwards_what_policy_forbids(state):
    plan = media_plan(state)
    assert set(plan.audiences) == {(p.id, s) for p in state.participants for s in Source}
    for p in state.participants:
        for source in Source:
            key = (p.id, source)
            if key in plan.open_producers:
                assert not state.ended
                assert source in p.sources_on
                assert p.holds(REQUIRED_CAPABILITY[source])
                if state.presenter_mode and source is Source.MICROPHONE and p.admitted and p.visiting is None:
                    assert p.floor  # a microphone reaching the meeting needs the floor
            assert p.id not in plan.audiences[key]
    for publisher, source, subscriber in plan.routes():
        pub, sub = state.get(publisher), state.get(subscriber)
        if pub.waiting or sub.waiting:
            # the only media to or from the waiting room: a visit, audio and video
            waiting, other = (pub, sub) if pub.waiting else (sub, pub)
            assert not (pub.waiting and sub.waiting)
            assert other.visiting == waiting.id and source in VISIT_SOURCES
    for p in state.waiting():
        for source in Source:
            if (p.id, source) in plan.open_producers:
                assert source in VISIT_SOURCES and state.visitor_of(p.id) is not None


@given(states(), states())
def test_plan_changes_move_one_plan_to_the_other_closing_first(a, b):
    old, new = media_plan(a), media_plan(b)
    changes = plan_changes(old, new)
    moved = apply(old, changes)
    assert moved.open_producers == new.open_producers
    assert routes(moved) == routes(new)
    flags = [c.open for c in changes]
    assert flags == sorted(flags)  # every close before every open
    # at every step, nothing forwards that neither the old plan (while closing) nor the new plan
    # (while opening) allows
    for i, change in enumerate(changes):
        bound = new if change.open else old
        current = apply(old, changes[: i + 1])
        assert current.open_producers <= bound.open_producers
        assert routes(current) <= routes(bound)


@given(states())
def test_no_changes_between_equal_plans(state):
    assert plan_changes(media_plan(state), media_plan(state)) == []
