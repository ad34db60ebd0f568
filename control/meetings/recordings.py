"""Recording a live meeting: the recorder started before the change that turns recording on, the
files finalised after the change that turns it off (or when the meeting ends, or this process
stops).

`start_recording` and `stop_recording` are moderation actions (control.domain.moderation: the
`record` right of the organizer and moderators), so they take the commit pipeline like every
change: policy decides, the worker acks the feed to the recorder (control.meetings.media: a plain
transport to the recorder's loopback socket, a consumer per producer), the meeting's documents and
the audit entry are written, then everyone gets `recording-changed`. The recorder (control.recording)
runs in this process; a worker on another host cannot reach its loopback socket, so a meeting is
recorded when its first worker is on this host (the other workers of a spanning meeting pipe their
producers to that one).

A control-plane restart finalises the files cleanly: `close_all` stops each recorder as the process
stops (trailers and cues written, the description says `interrupted`); the restored meeting is not
recorded any more (control.meetings.durable.documents) and its participants resume with the
indicator off. A moderator starts a new recording if they want one."""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from control.domain.meeting_state import Code, Refused
from control.domain.moderation import Action, Command
from control.meetings.errors import MeetingError, refused
from control.meetings.live import LiveMeeting
from control.recording.library import RecordingLibrary, storage_quota

log = logging.getLogger("podium.recording")

Act = Callable[[LiveMeeting, str, Command, float | None], Awaitable[int | None]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def recording_unavailable(message: str) -> MeetingError:
    error = MeetingError(message, code="recording_unavailable")
    error.status = 503
    return error


@dataclass(eq=False)
class ActiveRecording:
    """A recording in progress and its recorder."""

    description: dict[str, Any]
    recorder: Any = None
    """control.recording.recorder.Recorder (imported only when recording: PyAV is optional)."""
    participants: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.description["id"])

    def document(self) -> dict[str, Any]:
        """What the meeting's durable document keeps of it."""
        return {"id": self.id, "started_at": self.description["started_at"]}


Ready = Callable[[LiveMeeting, dict[str, Any]], None]
"""Told when a recording's files are final and listed (the meeting observers' `recording_ready`:
the `recording.ready` webhook)."""


class Recordings:
    def __init__(self, library: RecordingLibrary, quota: int | None, act: Act, ready: Ready | None = None) -> None:
        self.library = library
        self._ready = ready
        self.quota = quota
        self._act = act

    async def act(self, live: LiveMeeting, actor: str, command: Command, started: float | None) -> int | None:
        if command.action is Action.START_RECORDING:
            return await self._start(live, actor, command, started)
        version = await self._act(live, actor, command, started)
        self.finish(live, "stopped", by=actor)
        return version

    async def _start(self, live: LiveMeeting, actor: str, command: Command, started: float | None) -> int | None:
        if live.recording is not None or live.state.recording:
            raise refused(Refused(Code.ALREADY_RECORDING, "the meeting is being recorded already"))
        quota = storage_quota(self.quota)
        if quota is not None and self.library.used_bytes(live.company_id) >= quota:
            error = MeetingError(
                "the company's storage quota is used up: delete recordings first", code="storage_quota"
            )
            error.status = 409
            raise error
        try:
            from control.recording.recorder import Recorder
        except ImportError as missing:  # PyAV, aiortc or numpy not installed: pip install podium[recording]
            raise recording_unavailable(f"recording needs the 'recording' extra: {missing}") from None
        recording_id = "r" + secrets.token_hex(8)
        description: dict[str, Any] = {
            "id": recording_id,
            "company_id": live.company_id,
            "room_id": live.room_id,
            "meeting_id": live.id,
            "started_at": _now(),
            "started_by": {"participant_id": actor, "user_id": live.users.get(actor)},
            "ended_at": None,
            "state": "recording",
            "files": [],
        }
        directory = self.library.directory(live.company_id, recording_id)
        active = ActiveRecording(description)
        live.recording = active  # set before any await: a second start is refused above
        try:
            active.recorder = Recorder(directory, lambda ssrc: self._track(live, ssrc))
            live.media.recorder_address = await active.recorder.start()
            self.library.write(description)
            return await self._act(live, actor, command, started)
        except BaseException:
            if active.recorder is not None:
                active.recorder.close()
            shutil.rmtree(directory, ignore_errors=True)
            live.recording = None
            live.media.recorder_address = None
            raise

    @staticmethod
    def _track(live: LiveMeeting, ssrc: int) -> Any:
        """The recorder's question: which track is this SSRC (the records the worker acked)."""
        from control.recording.tracks import Track

        feed = live.media.records.recorder
        consumer = feed.track(ssrc) if feed is not None else None
        if consumer is None:
            return None
        codec = consumer.codec.mime_type.split("/")[-1].lower()
        name = f"{consumer.publisher}.{consumer.source}.{consumer.consumer_id.rsplit('.', 1)[-1]}"
        return Track(
            ssrc,
            name,
            consumer.publisher,
            str(consumer.source),
            consumer.kind,
            codec,
            consumer.codec.clock_rate,
            consumer.codec.channels or 2,
        )

    def finish(self, live: LiveMeeting, state: str, *, by: str | None = None) -> dict[str, Any] | None:
        """Stop the recorder, finalise its files and describe them (`state`: stopped, meeting_ended,
        interrupted)."""
        active, live.recording = live.recording, None
        live.media.recorder_address = None
        if active is None:
            return None
        manifest = active.recorder.close() if active.recorder is not None else {"tracks": [], "mixed": None}
        description: dict[str, Any] = active.description
        description["ended_at"] = _now()
        description["state"] = state
        description["stopped_by"] = by
        files = [
            {
                "name": t["file"],
                "kind": t["kind"],
                "participant_id": t["participant"],
                "source": t["source"],
                "offset": t["offset"],
                "duration": t["duration"],
            }
            for t in manifest["tracks"]
        ]
        if manifest.get("mixed"):
            mixed = manifest["mixed"]
            files.append({"name": mixed["file"], "kind": "audio", "source": "mixed", "duration": mixed["duration"]})
        description["files"] = files
        description["counters"] = manifest.get("counters", {})
        self.library.write(description)
        log.info("recording %s ready: %d bytes", description["id"], description.get("bytes", 0))
        if self._ready is not None:
            self._ready(live, dict(description))
        return description

    def close_all(self, meetings: list[LiveMeeting]) -> None:
        """The process stops: finalise every recording (the restored meetings are not recorded)."""
        for live in meetings:
            try:
                self.finish(live, "interrupted")
            except Exception:
                log.exception("meeting %s: the recording was not finalised", live.id)

    def interrupted(self, live: LiveMeeting) -> None:
        """A restored meeting whose recording the previous process stopped: make sure its description
        says so (when that process died before writing it)."""
        document, live.interrupted_recording = live.interrupted_recording, None
        if not document:
            return
        try:
            description = self.library.get(live.company_id, str(document["id"]))
        except KeyError:
            return
        if description.get("state") == "recording":  # that process died before finalising
            directory = self.library.directory(live.company_id, description["id"])
            description["files"] = [{"name": p.name} for p in sorted(directory.glob("*.webm"))]
            description["state"] = "interrupted"
            description["ended_at"] = description.get("ended_at") or _now()
            self.library.write(description)
