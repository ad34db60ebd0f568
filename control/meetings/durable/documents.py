"""What a running meeting is stored as: one meeting document and one document per participant's
engine objects (control.store.models.live_meeting).

The meeting document holds the policy state (`MeetingState`: roles, permissions and revocations,
the waiting room, the floor, presenter mode, the chat switch, exclusions, visits), who each
participant is (name, user, what they may see, their number, their guest session), the sources
to keep switched as they were when published again, and the worker with its DTLS fingerprints:
a restarted control plane tells by them whether the worker it finds is the same process, whose
transports still exist. The peer documents are the media records (control.meetings.media_records.Peer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from control.domain.meeting_state import MeetingState
from control.domain.roles import Source
from control.meetings.durable import codec
from control.meetings.live import Identity, LiveMeeting
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords, Peer
from control.meetings.visibility import Viewer

VERSION = 1
"""Of the document layout; a document of another version is not restored (the meeting ends)."""


@dataclass(frozen=True)
class Person:
    """Who one participant is, beyond the policy state."""

    name: str
    user_id: str | None
    viewer: Viewer
    number: int
    guest_session: str | None


def people(live: LiveMeeting, state: MeetingState, arrival: tuple[str, Identity] | None = None) -> dict[str, Any]:
    """The participants of `state` as the meeting knows them (and an arrival not yet entered)."""
    out: dict[str, Any] = {}
    for p in state.participants:
        if arrival is not None and p.id == arrival[0]:
            identity = arrival[1]
            out[p.id] = {
                "name": identity.name,
                "user_id": identity.user_id,
                "names_visible": identity.names_visible,
                "person": identity.person,
                "number": max(live.numbers.values(), default=0) + 1,
                "guest_session": identity.guest_session,
            }
            continue
        viewer = live.viewer(p.id)
        out[p.id] = {
            "name": live.names.get(p.id, ""),
            "user_id": live.users.get(p.id),
            "names_visible": viewer.names,
            "person": viewer.person,
            "number": live.numbers.get(p.id, 0),
            "guest_session": live.guest_sessions.get(p.id),
        }
    return out


def meeting_document(
    live: LiveMeeting, state: MeetingState, records: MediaRecords, arrival: tuple[str, Identity] | None = None
) -> dict[str, Any]:
    media = live.media
    return {
        "version": VERSION,
        "room_id": live.room_id,
        "company_id": live.company_id,
        "state": codec.encode(state),
        "people": people(live, state, arrival),
        "republish": {pid: sorted(str(s) for s in sources) for pid, sources in live.republish.items()},
        "media": {
            "worker_id": media.worker_id,
            "fingerprints": [list(f) for f in media.fingerprints],
            "candidates": [list(c) for c in media.candidates],
            "router_created": records.router_created,
            "workers": sorted(records.workers),
            "recorder": codec.encode(records.recorder),
        },
        "recording": live.recording.document() if live.recording is not None else None,
    }


def peer_document(peer: Peer) -> dict[str, Any]:
    return codec.encode(peer)  # type: ignore[no-any-return]


def changed_peers(saved: Mapping[str, Peer], records: MediaRecords) -> tuple[dict[str, Peer], set[str]]:
    """The peers to write (new or changed since `saved`) and the participant ids to delete.
    Records are copy-on-write: a peer a change touched is a new object."""
    changed = {pid: peer for pid, peer in records.peers.items() if saved.get(pid) is not peer}
    gone = set(saved) - set(records.peers)
    return changed, gone


def live_meeting(meeting_id: str, document: dict[str, Any], peers: Mapping[str, dict[str, Any]]) -> LiveMeeting:
    """The running meeting the documents describe, with no one connected; CodecError when they do
    not describe one."""
    if document.get("version") != VERSION:
        raise codec.CodecError(f"document version {document.get('version')!r}, expected {VERSION}")
    state = codec.decode(document["state"])
    if not isinstance(state, MeetingState):
        raise codec.CodecError("the state is not a MeetingState")
    m = document["media"]
    media = Media(
        meeting_id,
        str(m["worker_id"]),
        [(str(a), str(b)) for a, b in m["fingerprints"]],
        [(str(h), int(port)) for h, port in m["candidates"]],
    )
    restored: dict[str, Peer] = {}
    order = {p.id: n for n, p in enumerate(state.participants)}
    for pid, data in sorted(peers.items(), key=lambda item: (order.get(item[0], len(order)), item[0])):
        peer = codec.decode(data)
        if not isinstance(peer, Peer) or peer.pid != pid:
            raise codec.CodecError(f"peer document of {pid} is not its Peer")
        restored[pid] = peer
    media.records = MediaRecords(
        MappingProxyType(restored), bool(m["router_created"]), frozenset(str(w) for w in m.get("workers", ()))
    )
    interrupted = document.get("recording")
    if state.recording:
        # the recorder ran in the previous process, which finalised its files as it stopped: the
        # restored meeting is not recorded (its feed closes with the restore's resync) and the
        # recording is listed as ended (control.meetings.recordings.Recordings.interrupted)
        state = replace(state, recording=False)
    live = LiveMeeting(meeting_id, str(document["room_id"]), str(document["company_id"]), state, media)
    live.interrupted_recording = interrupted if isinstance(interrupted, dict) else None
    for pid, who in document["people"].items():
        live.names[pid] = str(who["name"])
        live.users[pid] = who["user_id"]
        live.viewers[pid] = Viewer(bool(who["names_visible"]), who["person"])
        live.numbers[pid] = int(who["number"])
        if who["guest_session"]:
            live.guest_sessions[pid] = str(who["guest_session"])
    live.republish = {pid: {Source(s) for s in sources} for pid, sources in document["republish"].items()}
    live.saved_peers = dict(restored)
    return live
