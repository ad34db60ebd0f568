"""The meetings service: executes the pure meeting policy against the store and the engine.

Every change follows one path (`_commit`): policy decides (`control.domain.moderation`) → the
decision's persistent effects are committed (removals, bans, revoked tokens) → the live state is
replaced → the media plan is reconciled into engine operations, sent as one versioned batch and
awaited until the worker acks it → the audit entry records that version → clients are told. So a
caller that gets a version back knows the engine enforces the change.

Changes of one meeting are serialised by its lock; meetings are independent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from control import metrics
from control.domain.chat import text_problem
from control.domain import moderation
from control.domain.meeting_state import Code, MeetingState, Participant, Refused, Removal, RoomFeatures
from control.domain.moderation import (
    Action,
    Allowed,
    Command,
    Disconnect,
    FloorChanged,
    MeetingEnded,
    PermissionChanged,
    Reason,
    RevokeTokens,
    RoleChanged,
    RoomChanged,
    SourceChanged,
    SuccessorChosen,
    VisitChanged,
    WaitingChanged,
)
from control.domain.roles import ALL_CAPABILITIES, Capability, Role, Source
from control.domain.rooms import has_access
from control.engines import EngineChannelError, EngineRegistry, RegistryEvent, WorkerConnected, WorkerLost
from control.errors import ApiError, Unauthenticated
from control.meetings import guests, visibility
from control.meetings.events import MeetingEvents, MeetingInfo
from control.meetings.media import Media
from control.meetings.visibility import NOBODY, Viewer
from control.meetings.sdp import Produce, SdpError, answer_offer, parse_subscriber_answer
from control.services import auth
from control.services.context import Context
from control.store.models import AuditEvent, Meeting, Room, RoomRemoval
from control.store.repositories.meetings import MeetingStore
from control.store.repositories.rooms import Rooms
from control.store.repositories.sessions import AuthSessions
from control.store.repositories.users import Users
from control.types import Principal

log = logging.getLogger("podium.meetings")

USER_PREFIX = "u:"
"""Person key of a registered user: u:<user id>. Guests' keys are g:<invitation id>."""


class MeetingError(ApiError):
    """A refused meeting request: `code` is a policy or protocol code (docs/signaling.md)."""

    status = 403
    code = "forbidden"


_STATUS = {Code.UNKNOWN_PARTICIPANT: 404, Code.MISSING_ARGUMENT: 422, Code.INVALID_ARGUMENT: 422,
           Code.MEETING_ENDED: 409, Code.ALREADY_IN_MEETING: 409, Code.TARGET_NOT_WAITING: 409,
           Code.TARGET_WAITING: 409, Code.ALREADY_VISITED: 409, Code.NO_WAITING_ROOM: 409}


def refused(r: Refused) -> MeetingError:
    error = MeetingError(r.message, code=str(r.code))
    error.status = _STATUS.get(r.code, 403)
    return error


def engine_unavailable(message: str) -> MeetingError:
    error = MeetingError(message, code="engine_unavailable")
    error.status = 503
    return error


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


Send = Callable[[dict[str, Any]], None]
"""Queue one frame to a participant's socket (never blocks)."""
Close = Callable[[int, str], Awaitable[None]]


@dataclass
class Link:
    """A participant's signaling connection, as the service sees it."""

    send: Send
    close: Close


@dataclass
class Identity:
    """Who presents a token at join."""

    person: str
    name: str
    registered: bool
    company_id: str
    user_id: str | None = None
    room_role: Role | None = None
    """A registered user's default role in the room."""
    rights: frozenset[Capability] | None = None
    """A guest's invitation rights."""
    guest_session: str | None = None
    names_visible: bool = False
    """Holds Show all usernames (never a guest): sees the names of others."""


@dataclass(eq=False)
class LiveMeeting:
    id: str
    room_id: str
    company_id: str
    state: MeetingState
    media: Media
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    links: dict[str, Link] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    users: dict[str, str | None] = field(default_factory=dict)
    guest_sessions: dict[str, str] = field(default_factory=dict)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    """participant id → what they may see of others (control.meetings.visibility)."""
    numbers: dict[str, int] = field(default_factory=dict)
    """participant id → n of the label "Participant <n>" shown instead of a hidden name (arrival order)."""
    last_waiting: Any = None
    republish: dict[str, set[Source]] = field(default_factory=dict)
    """After a move to another worker: the sources each participant published before, whose
    on/off state their next `publish` keeps (it neither turns them on nor honours `muted`)."""

    def info(self) -> MeetingInfo:
        return MeetingInfo(self.id, self.room_id, self.company_id)


class MeetingService:
    """Live meetings of this control plane and every operation on them."""

    def __init__(self, context: Callable[[], contextlib.AbstractAsyncContextManager[Context]],
                 registry: EngineRegistry, *, clock: Callable[[], float] = time.time) -> None:
        self._context = context
        self.registry = registry
        self.clock = clock
        self.live: dict[str, LiveMeeting] = {}
        """meeting id → live meeting."""
        self._by_room: dict[str, str] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self.observers: list[MeetingEvents] = []
        self.action_latency = metrics.Histogram(
            "podium_moderation_seconds", "Time from a moderation request to the engine's ack of its table version.")
        registry.add_listener(self.on_registry_event)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._notes: asyncio.Queue[tuple[str, tuple[Any, ...]] | asyncio.Future[None]] = asyncio.Queue()
        """Observer notifications, delivered one at a time in the order they happened."""
        self._notifier: asyncio.Task[None] | None = None

    def add_observer(self, observer: MeetingEvents) -> None:
        """Chat, attendance and other layers hear about joins, departures, sources and chat here."""
        self.observers.append(observer)

    def metrics_text(self) -> str:
        return "\n".join(self.action_latency.render()) + "\n"

    async def close(self) -> None:
        for live in list(self.live.values()):
            for link in list(live.links.values()):
                link.send({"type": "disconnected", "reason": "shutting_down", "until": None})
                with contextlib.suppress(Exception):
                    await link.close(1001, "shutting down")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self.observed()
        for task in list(self._tasks):
            task.cancel()
        if self._notifier is not None:
            self._notifier.cancel()

    def meeting(self, meeting_id: str) -> LiveMeeting | None:
        return self.live.get(meeting_id)

    def meeting_of_room(self, room_id: str) -> LiveMeeting | None:
        meeting_id = self._by_room.get(room_id)
        return self.live.get(meeting_id) if meeting_id else None

    # ---- identity ------------------------------------------------------------------------------

    async def identify(self, token: str, room_id: str) -> tuple[Identity, Room]:
        """The person behind a join token, with the room; MeetingError/Unauthenticated otherwise."""
        async with self._context() as ctx:
            if guests.looks_like_guest_token(token):
                claims = guests.verify(ctx.token_key, token)
                store = MeetingStore(ctx.session)
                session = await store.guest_session(claims.session_id)
                if session is None or session.revoked_at is not None or session.expires_at <= ctx.now():
                    raise Unauthenticated("guest token revoked or expired", code="invalid_token")
                invitation = await store.invitation(session.invitation_id)
                if invitation is None or invitation.revoked_at is not None:
                    raise Unauthenticated("guest token revoked", code="invalid_token")
                if invitation.room_id != room_id:
                    raise MeetingError("this invitation is for another room", code="no_access")
                room = await ctx.session.get(Room, room_id)
                if room is None:
                    raise MeetingError("room not found", code="no_access")
                rights = frozenset(Capability(r) for r in invitation.rights)
                # the name the guest entered at redemption (signed into the token); the person key
                # stays the invitation's invitee key, for bans, removals and the audit log
                return Identity(invitation.invitee_key, claims.name or invitation.invitee_name, False,
                                room.company_id, rights=rights, guest_session=session.id), room
            principal = await auth.authenticate(ctx, token)
            if principal.api_key_id is not None:
                raise MeetingError("join with a user's access token, not an API key", code="no_access")
            rooms = Rooms(ctx.session, principal.company_id)
            room = await rooms.get(room_id)
            role = await rooms.role(room_id, principal.user_id) if room else None
            if room is None or not has_access(principal.permissions, role):
                raise MeetingError("no access to this room", code="no_access")
            user = await Users(ctx.session, principal.company_id).get(principal.user_id)
            assert user is not None
            return Identity(USER_PREFIX + user.id, user.name, True, principal.company_id, user_id=user.id,
                            room_role=role, names_visible=visibility.viewer(principal.permissions).names), room

    # ---- joining -------------------------------------------------------------------------------

    async def join(self, token: str, room_id: str, link: Link) -> tuple[LiveMeeting, str]:
        """Enter the room's running meeting (a registered user opens one if none runs). Sends the
        `joined` frame (and tells the others) before returning (meeting, participant id)."""
        identity, room = await self.identify(token, room_id)
        pid = "p" + secrets.token_hex(6)
        opener = self._opening.setdefault(room_id, asyncio.Lock())
        async with opener:
            live = self.meeting_of_room(room_id)
            if live is None:
                if not identity.registered:
                    raise MeetingError("the meeting has not started yet", code="meeting_not_started")
                live = await self._open(room, identity, pid)
                opened = True
            else:
                opened = False
        async with live.lock:
            if live.state.ended:
                raise refused(Refused(Code.MEETING_ENDED, "the meeting has ended"))
            now = self.clock()
            if opened:
                new = live.state
                effects: tuple[Any, ...] = ()
            else:
                decision = moderation.join(live.state, pid, identity.person, registered=identity.registered,
                                           now=now, capabilities=identity.rights)
                if isinstance(decision, Refused):
                    raise refused(decision)
                new, effects = decision.state, decision.effects
                if identity.room_role in (Role.ORGANIZER, Role.MODERATOR):
                    p = new.get(pid)
                    assert p is not None
                    new = new.put(replace(p, role=Role.MODERATOR, waiting=False, capabilities=ALL_CAPABILITIES))
            live.links[pid] = link
            live.names[pid] = identity.name
            live.users[pid] = identity.user_id
            live.viewers[pid] = Viewer(identity.names_visible, identity.person)
            live.numbers[pid] = max(live.numbers.values(), default=0) + 1
            if identity.guest_session:
                live.guest_sessions[pid] = identity.guest_session
            await self._commit(live, new, tuple(effects), actor=pid, action=None, started=None)
            me = live.state.get(pid)
            assert me is not None
            link.send(self._joined(live, me))
            if me.admitted:
                self._broadcast_each(live, lambda viewer: {"type": "participant-joined",
                                                           "participant": self._participant(live, me, viewer)},
                                     exclude=pid)
            self._waiting_update(live)
            if me.waiting:
                self._observe("participant_waiting", live.info(), pid, identity.person, identity.name)
            else:
                self._observe("participant_joined", live.info(), pid, identity.person, identity.name)
            self._observe("role_changed", live.info(), pid, str(me.role))
        return live, pid

    async def _open(self, room: Room, identity: Identity, pid: str) -> LiveMeeting:
        now = self.clock()
        async with self._context() as ctx:
            store = MeetingStore(ctx.session)
            rows = await store.removals(room.id, ctx.now())
            removals = [Removal(r.person, r.until.timestamp()) for r in rows if r.kind == "removal" and r.until]
            bans = [r.person for r in rows if r.kind == "ban"]
            features = RoomFeatures(waiting_room=room.waiting_room, screen_share=room.screen_share)
            state = moderation.open_meeting(features, pid, identity.person, registered=True, now=now,
                                            removals=removals, bans=bans)
            if isinstance(state, Refused):
                raise refused(state)
            if not room.chat:
                state = replace(state, chat_enabled=False)
            try:
                worker_id = self.registry.pick_worker(require=["webrtc"])
            except EngineChannelError as error:
                raise engine_unavailable(str(error)) from None
            meeting = Meeting(company_id=room.company_id, room_id=room.id, opened_by=identity.user_id or "",
                              started_at=ctx.now(), worker_id=worker_id)
            await store.add(meeting)
            await ctx.session.commit()
            meeting_id = meeting.id
        live = LiveMeeting(meeting_id, room.id, room.company_id, MeetingState(features=state.features),
                           self._media(meeting_id, worker_id))
        live.state = state  # _commit of the join reconciles it (nothing to forward yet)
        self.live[meeting_id] = live
        self._by_room[room.id] = meeting_id
        log.info("meeting %s opened in room %s on worker %s", meeting_id, room.id, worker_id)
        return live

    def _media(self, meeting_id: str, worker_id: str) -> Media:
        info = self.registry.worker(worker_id)
        return Media(meeting_id, worker_id, list(info.dtls_fingerprints), list(info.candidates))

    # ---- actions -------------------------------------------------------------------------------

    async def act(self, live: LiveMeeting, actor: str, command: Command, *, started: float | None = None
                  ) -> int | None:
        """Decide and carry out one command; returns the engine version that enforces it (None
        when no engine operation was needed). Raises MeetingError when policy refuses."""
        started = started if started is not None else time.perf_counter()
        async with live.lock:
            decision = moderation.decide(live.state, actor, command, self.clock())
            if isinstance(decision, Refused):
                raise refused(decision)
            version = await self._commit(live, decision.state, decision.effects, actor=actor,
                                         action=command, started=started)
        self.action_latency.observe(time.perf_counter() - started)
        return version

    async def leave(self, live: LiveMeeting, pid: str, reason: Reason = Reason.LEFT) -> None:
        """The participant left (or their socket closed); `reason` tells them and the others why
        (e.g. REVOKED: their invitation was revoked)."""
        async with live.lock:
            if live.state.get(pid) is None:
                live.links.pop(pid, None)
                return
            decision = moderation.decide(live.state, pid, Command(Action.LEAVE), self.clock())
            if isinstance(decision, Refused):
                return
            effects = tuple(replace(e, reason=reason) if isinstance(e, Disconnect) and e.participant == pid else e
                            for e in decision.effects)
            with contextlib.suppress(MeetingError):
                await self._commit(live, decision.state, effects, actor=pid, action=None, started=None)

    def actor_for_user(self, live: LiveMeeting, user_id: str, participant_id: str | None = None) -> str:
        """The participant a REST caller acts as: the given one if it is theirs, else their first."""
        mine = [p.id for p in live.state.of_person(USER_PREFIX + user_id)]
        if participant_id is not None:
            if participant_id not in mine:
                raise refused(Refused(Code.UNKNOWN_PARTICIPANT, f"{participant_id} is not one of yours"))
            return participant_id
        if not mine:
            raise refused(Refused(Code.UNKNOWN_PARTICIPANT, "you are not in this meeting"))
        return mine[0]

    # ---- media ---------------------------------------------------------------------------------

    async def publish(self, live: LiveMeeting, pid: str, sdp: str, sources: dict[str, Source],
                      muted: frozenset[Source]) -> dict[str, Any]:
        """Answer the participant's publish offer; new sources need the permission (check_produce)."""
        async with live.lock:
            state = live.state
            peer = live.media.peer(pid)
            local = live.media.local(peer.pub_ice)
            try:
                result = answer_offer(sdp, local)
            except SdpError as error:
                raise MeetingError(str(error), code="sdp") from None
            produces = [op for op in result.operations if isinstance(op, Produce)]
            connect = next((op for op in result.operations if type(op).__name__ == "ConnectWebRtcTransport"), None)
            known = {pub.mid: pub for pub in peer.publications.values()}
            new: list[tuple[Produce, Source]] = []
            for produce in produces:
                source = sources.get(produce.mid)
                if source is None:
                    raise MeetingError(f"m-section {produce.mid!r} is not named in sources", code="invalid")
                if produce.mid in known:
                    continue
                if source in peer.publications:
                    raise MeetingError(f"{source} is already published; close-producer first", code="invalid")
                checked = moderation.check_produce(state, pid, source)
                if isinstance(checked, Refused):
                    raise refused(checked)
                if Source(source).value and produce.kind != _kind(source):
                    raise MeetingError(f"{source} must be {_kind(source)}, not {produce.kind}", code="invalid")
                new.append((produce, source))
            ops, created = live.media.publish(pid, connect, new)
            new_state, effects = state, ()
            kept = live.republish.pop(pid, set())
            for publication in created:
                if publication.source in kept:
                    continue  # published again after a move: its switch is as it was
                if publication.source in muted or publication.source in new_state.get(pid).sources_on:  # type: ignore[union-attr]
                    continue
                decision = moderation.decide(new_state, pid, Command(Action.TURN_ON_SOURCE, source=publication.source),
                                             self.clock())
                if isinstance(decision, Refused):
                    live.links[pid].send(_error(decision.code, decision.message, None))
                    continue
                new_state, effects = decision.state, effects + decision.effects
            await self._commit(live, new_state, effects, actor=pid, action=None, started=None, ops=ops)
            for publication in created:
                self._broadcast(live, {"type": "track-published", "participant_id": pid,
                                       "source": str(publication.source), "kind": publication.kind}, exclude=pid)
            return {"type": "publish-answer", "sdp": result.answer,
                    "producers": [{"id": p.producer_id, "mid": p.mid, "source": str(p.source), "kind": p.kind}
                                  for p in live.media.peer(pid).publications.values()]}

    async def close_producer(self, live: LiveMeeting, pid: str, source: Source) -> None:
        async with live.lock:
            ops = live.media.close_producer(pid, source)
            if not ops:
                raise MeetingError(f"{source} is not published", code="invalid")
            await self._apply(live, ops, None)
            self._broadcast(live, {"type": "track-unpublished", "participant_id": pid, "source": str(source),
                                   "kind": _kind(source)}, exclude=pid)

    async def subscribe_answer(self, live: LiveMeeting, pid: str, version: int, sdp: str) -> None:
        async with live.lock:
            peer = live.media.peers.get(pid)
            if peer is None or peer.pending_offer is None or peer.pending_offer[0] != version:
                raise MeetingError(f"no subscribe offer {version} awaits an answer", code="stale")
            try:
                answer = parse_subscriber_answer(sdp, peer.pending_offer[1])
            except SdpError as error:
                raise MeetingError(str(error), code="sdp") from None
            ops = live.media.answered(pid, answer.connect)
            if ops:
                await self._apply(live, ops, None)
            self._offer(live, pid)

    # ---- chat ----------------------------------------------------------------------------------

    async def chat(self, live: LiveMeeting, pid: str, text: str, to: str | None) -> None:
        async with live.lock:
            checked = moderation.check_chat(live.state, pid, to)
            if isinstance(checked, Refused):
                raise refused(checked)
            problem = text_problem(text)
            if problem is not None:  # refused before anyone sees it, as it could not be stored
                error = MeetingError(problem, code="invalid_chat_text")
                error.status = 422
                raise error
            await self.observed()  # the chat observer finds the sender's person in attendance rows
            message: dict[str, Any] | None = None
            for observer in self.observers:
                handler = getattr(observer, "chat_message", None)
                if handler is None:
                    continue
                try:
                    message = await handler(live.info(), pid, live.names.get(pid, ""), to, text)
                except Exception:
                    log.exception("chat observer failed")
                if message is not None:
                    break
            if message is None:
                message = {"id": secrets.token_hex(8), "from": pid, "from_name": live.names.get(pid, ""),
                           "to": to, "to_name": live.names.get(to) if to else None, "text": text,
                           "at": utc(self.clock()).isoformat()}
            frame = {"type": "chat", **message}
            targets = {p.id for p in live.state.admitted()} if to is None else {pid, to}
            for target in targets:
                viewer = self._viewer(live, target)
                self._send(live, target, {**frame,
                                          "from_name": self._chat_name(live, pid, frame["from_name"], viewer),
                                          "to_name": self._chat_name(live, to, frame.get("to_name"), viewer)})

    def _chat_name(self, live: LiveMeeting, pid: str | None, stored: str | None, viewer: Viewer) -> str | None:
        if pid is None:
            return None
        p = live.state.get(pid)
        if visibility.shown(viewer, p.person if p else None, "") is not None:
            return stored
        return visibility.label(live.numbers.get(pid, 0))

    # ---- the commit path -------------------------------------------------------------------------

    async def _commit(self, live: LiveMeeting, new: MeetingState, effects: tuple[Any, ...], *, actor: str,
                      action: Command | None, started: float | None, ops: list[dict[str, Any]] | None = None
                      ) -> int | None:
        old = live.state
        revokes = [e for e in effects if isinstance(e, RevokeTokens)]
        if revokes or (action is not None and action.action is Action.UNBAN):
            await self._persist(live, revokes, action, actor)
        live.state = new
        all_ops = list(ops or []) + live.media.reconcile(new)
        ended = next((e for e in effects if isinstance(e, MeetingEnded)), None)
        if ended is not None:
            all_ops += live.media.close()
        version = await self._apply(live, all_ops, started)
        if action is not None:
            await self._audit(live, old, actor, action, version)
        self._tell(live, old, effects, actor)
        for pid in list(live.media.peers):
            self._offer(live, pid)
        self._waiting_update(live)
        if ended is not None:
            await self._finish(live, ended.reason)
        return version

    async def _apply(self, live: LiveMeeting, ops: list[dict[str, Any]], started: float | None) -> int | None:
        if not ops:
            return None
        try:
            applied = await self.registry.apply(live.media.worker_id, ops, started=started)
        except EngineChannelError as error:
            log.error("meeting %s: engine batch failed: %s", live.id, error)
            raise engine_unavailable(f"the engine did not apply the change: {error}") from None
        return applied.version

    async def _persist(self, live: LiveMeeting, revokes: list[RevokeTokens], action: Command | None,
                       actor: str) -> None:
        async with self._context() as ctx:
            store = MeetingStore(ctx.session)
            now = ctx.now()
            for effect in revokes:
                kind = {Reason.EXCLUDED: "exclusion", Reason.REMOVED: "removal", Reason.BANNED: "ban"}[effect.reason]
                await store.add(RoomRemoval(company_id=live.company_id, room_id=live.room_id, person=effect.person,
                                            kind=kind, meeting_id=live.id if kind == "exclusion" else None,
                                            until=utc(effect.until) if effect.until is not None else None,
                                            actor=actor, created_at=now))
                if effect.person.startswith(USER_PREFIX):
                    await AuthSessions(ctx.session).revoke_all(effect.person[len(USER_PREFIX):], now)
                else:
                    await store.revoke_person(effect.person, now)
            if action is not None and action.action is Action.UNBAN and action.person:
                await store.lift_bans(live.room_id, action.person, now)
            await ctx.session.commit()

    async def _audit(self, live: LiveMeeting, old: MeetingState, actor: str, command: Command,
                     version: int | None) -> None:
        target = old.get(command.target) if command.target else None
        after: dict[str, Any] = {"meeting_id": live.id, "actor_participant": actor,
                                 "target_participant": command.target,
                                 "target_person": target.person if target else command.person,
                                 "engine_worker": live.media.worker_id, "engine_version": version}
        for name in ("source", "capability", "seconds"):
            value = getattr(command, name)
            if value is not None:
                after[name] = str(value) if not isinstance(value, float) else value
        try:
            async with self._context() as ctx:
                ctx.session.add(AuditEvent(company_id=live.company_id, at=ctx.now(), actor_user_id=live.users.get(actor),
                                           action=f"meeting.{command.action}", target_type="participant",
                                           target_id=command.target or command.person or live.id, after=after))
                await ctx.session.commit()
        except Exception:
            log.exception("meeting %s: audit entry failed", live.id)

    async def _finish(self, live: LiveMeeting, reason: Reason) -> None:
        self.live.pop(live.id, None)
        if self._by_room.get(live.room_id) == live.id:
            del self._by_room[live.room_id]
        # the observers record the departures first: reports stop at the end time, so it comes last
        self._observe("meeting_ended", live.info(), str(reason))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.observed()
        async with self._context() as ctx:
            meeting = await MeetingStore(ctx.session).meeting(live.id)
            if meeting is not None and meeting.ended_at is None:
                meeting.ended_at = ctx.now()
                meeting.end_reason = str(reason)
            await ctx.session.commit()

    # ---- telling clients -------------------------------------------------------------------------

    def _tell(self, live: LiveMeeting, old: MeetingState, effects: tuple[Any, ...], actor: str) -> None:
        state = live.state
        for effect in effects:
            if isinstance(effect, SourceChanged):
                frame = {"type": "source-changed", "participant_id": effect.participant, "source": str(effect.source),
                         "on": effect.on, "by": actor if actor != effect.participant else None}
                self._broadcast(live, frame, also=[effect.participant])
                self._observe("source_changed", live.info(), effect.participant, str(effect.source), effect.on)
            elif isinstance(effect, PermissionChanged):
                self._broadcast(live, {"type": "permission-changed", "participant_id": effect.participant,
                                       "capability": str(effect.capability), "held": effect.held, "by": actor},
                                also=[effect.participant])
            elif isinstance(effect, RoleChanged):
                self._broadcast(live, {"type": "role-changed", "participant_id": effect.participant,
                                       "role": str(effect.role)}, also=[effect.participant])
                self._observe("role_changed", live.info(), effect.participant, str(effect.role))
            elif isinstance(effect, FloorChanged):
                self._broadcast(live, {"type": "floor-changed", "participant_id": effect.participant,
                                       "floor": effect.floor})
            elif isinstance(effect, RoomChanged):
                self._broadcast(live, {"type": "room-changed", "presenter_mode": effect.presenter_mode,
                                       "chat_enabled": effect.chat_enabled})
            elif isinstance(effect, WaitingChanged):
                p = state.get(effect.participant)
                if p is None:
                    continue
                self._observe("participant_waiting" if effect.waiting else "participant_admitted", live.info(), p.id)
                if effect.waiting:
                    self._send(live, p.id, {"type": "sent-back"})
                    self._broadcast(live, {"type": "participant-left", "participant_id": p.id, "reason": "sent_back"},
                                    exclude=p.id)
                else:
                    self._send(live, p.id, {"type": "admitted", **self._room_view(live, p)})
                    self._broadcast_each(live, lambda viewer, p=p: {  # type: ignore[misc]
                        "type": "participant-joined", "participant": self._participant(live, p, viewer)},
                        exclude=p.id)
            elif isinstance(effect, VisitChanged):
                frame = {"type": "visit-started" if effect.active else "visit-ended",
                         "moderator_id": effect.moderator, "participant_id": effect.visited}
                targets = {effect.moderator, effect.visited} | {m.id for m in state.moderators()}
                for pid in targets:
                    self._send(live, pid, frame)
            elif isinstance(effect, SuccessorChosen):
                self._send(live, effect.participant, {"type": "notice", "code": "successor",
                                                      "message": f"you are now {effect.role} of this meeting"})
            elif isinstance(effect, MeetingEnded):
                for pid in list(live.links):
                    self._send(live, pid, {"type": "meeting-ended", "reason": str(effect.reason)})
        for effect in effects:
            if isinstance(effect, Disconnect):
                until = next((e.until for e in effects if isinstance(e, RevokeTokens) and e.until is not None
                              and old.get(effect.participant) is not None
                              and old.get(effect.participant).person == e.person), None)  # type: ignore[union-attr]
                was = old.get(effect.participant)
                if was is not None and was.admitted:
                    self._broadcast(live, {"type": "participant-left", "participant_id": effect.participant,
                                           "reason": str(effect.reason)}, exclude=effect.participant)
                link = live.links.pop(effect.participant, None)
                if link is not None:
                    link.send({"type": "disconnected", "reason": str(effect.reason),
                               "until": utc(until).isoformat() if until else None})
                    self._spawn(link.close(1000, str(effect.reason)))
                if was is not None:
                    self._observe("participant_left", live.info(), effect.participant, was.person, str(effect.reason))

    def _offer(self, live: LiveMeeting, pid: str) -> None:
        if pid not in live.links:
            return
        offer = live.media.subscribe_offer(pid)
        if offer is None:
            return
        version, sdp, subscriptions = offer
        self._send(live, pid, {"type": "subscribe-offer", "version": version, "sdp": sdp, "consumers": [
            {"mid": s.mid, "consumer_id": s.consumer_id, "participant_id": s.publisher, "source": str(s.source),
             "kind": s.kind, "stream_id": s.publisher, "track_id": s.consumer_id, "active": s.active}
            for s in subscriptions]})

    def _waiting_update(self, live: LiveMeeting) -> None:
        waiting = live.state.waiting()
        moderators = tuple(m.id for m in live.state.moderators())
        snapshot = (repr([self._participant(live, p, Viewer(True)) for p in waiting]), moderators)
        if snapshot == live.last_waiting:
            return
        live.last_waiting = snapshot
        for pid in moderators:
            viewer = self._viewer(live, pid)
            self._send(live, pid, {"type": "waiting-room",
                                   "waiting": [self._participant(live, p, viewer) for p in waiting]})

    def _send(self, live: LiveMeeting, pid: str, frame: dict[str, Any]) -> None:
        link = live.links.get(pid)
        if link is not None:
            link.send(frame)

    def _broadcast(self, live: LiveMeeting, frame: dict[str, Any], *, exclude: str | None = None,
                   also: list[str] = ()) -> None:  # type: ignore[assignment]
        targets = {p.id for p in live.state.admitted()} | set(also)
        for pid in targets:
            if pid != exclude:
                self._send(live, pid, frame)

    def _broadcast_each(self, live: LiveMeeting, build: Callable[[Viewer], dict[str, Any]], *,
                        exclude: str | None = None) -> None:
        """A frame that names people, built for each admitted recipient (rule "Show all usernames")."""
        for pid in {p.id for p in live.state.admitted()}:
            if pid != exclude and pid in live.links:
                self._send(live, pid, build(self._viewer(live, pid)))

    @staticmethod
    def _viewer(live: LiveMeeting, pid: str) -> Viewer:
        return live.viewers.get(pid, NOBODY)

    def _participant(self, live: LiveMeeting, p: Participant, viewer: Viewer) -> dict[str, Any]:
        peer = live.media.peers.get(p.id)
        name = visibility.shown(viewer, p.person, live.names.get(p.id, ""))
        return {"id": p.id, "name": name,
                "label": name if name is not None else visibility.label(live.numbers.get(p.id, 0)),
                "role": str(p.role), "registered": p.registered,
                "waiting": p.waiting, "capabilities": sorted(str(c) for c in p.capabilities),
                "sources_on": sorted(str(s) for s in p.sources_on), "floor": p.floor, "visiting": p.visiting,
                "tracks": sorted(str(s) for s in peer.publications) if peer else []}

    def _room_view(self, live: LiveMeeting, me: Participant) -> dict[str, Any]:
        state = live.state
        viewer = self._viewer(live, me.id)
        return {"participants": [self._participant(live, p, viewer) for p in state.admitted()] if me.admitted else [],
                "presenter_mode": state.presenter_mode, "chat_enabled": state.chat_enabled}

    def _joined(self, live: LiveMeeting, me: Participant) -> dict[str, Any]:
        state = live.state
        viewer = self._viewer(live, me.id)
        return {"type": "joined", "meeting_id": live.id, "room_id": live.room_id, "participant_id": me.id,
                "you": self._participant(live, me, viewer), **self._room_view(live, me),
                "names_visible": viewer.names,
                "waiting": ([self._participant(live, p, viewer) for p in state.waiting()]
                            if me.role.moderates else []),
                "features": {"waiting_room": state.features.waiting_room, "screen_share": state.features.screen_share,
                             "chat": state.chat_enabled}}

    def snapshot(self, live: LiveMeeting, caller: Principal | Viewer | None = None) -> dict[str, Any]:
        """The meeting as the REST API shows it to `caller` (names by the rule "Show all usernames";
        without a caller, no names)."""
        state = live.state
        if isinstance(caller, Principal):
            caller = visibility.viewer(caller.permissions, USER_PREFIX + caller.user_id)
        viewer = caller or NOBODY
        return {"id": live.id, "room_id": live.room_id, "worker_id": live.media.worker_id,
                "presenter_mode": state.presenter_mode, "chat_enabled": state.chat_enabled,
                "participants": [self._participant(live, p, viewer) for p in state.participants]}

    def online(self, room_id: str) -> int:
        """How many are in the room's running meeting (the waiting room excluded): a presence count."""
        live = self.meeting_of_room(room_id)
        return len(live.state.admitted()) if live is not None else 0

    # ---- observers and engine events ---------------------------------------------------------

    async def _notify(self, name: str, *args: Any) -> None:
        for observer in self.observers:
            handler = getattr(observer, name, None)
            if handler is None:
                continue
            try:
                await handler(*args)
            except Exception:
                log.exception("meeting observer %s failed", name)

    def _observe(self, name: str, *args: Any) -> None:
        """Queue one notification: observers hear every change in the order it was committed
        (attendance folds them; chat reads the identities attendance recorded)."""
        if not self.observers:
            return
        self._notes.put_nowait((name, args))
        if self._notifier is None or self._notifier.done():
            self._notifier = asyncio.ensure_future(self._deliver())

    async def _deliver(self) -> None:
        while True:
            note = await self._notes.get()
            if isinstance(note, asyncio.Future):
                if not note.done():
                    note.set_result(None)
                continue
            await self._notify(note[0], *note[1])

    async def observed(self) -> None:
        """Returns once the observers have heard every change queued so far."""
        if not self.observers or self._notifier is None or self._notifier.done():
            return
        marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._notes.put_nowait(marker)
        await marker

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_registry_event(self, event: RegistryEvent) -> None:
        if isinstance(event, WorkerLost):
            for live in list(self.live.values()):
                if live.media.worker_id == event.worker_id:
                    self._spawn(self._move(live))
        elif isinstance(event, WorkerConnected):
            known = {w.worker_id for w in self.registry.workers()}
            for live in list(self.live.values()):
                if live.media.worker_id not in known:  # lost while no other worker was live
                    self._spawn(self._move(live))
            self._spawn(self._clean_stale_table(event.worker_id))

    async def _clean_stale_table(self, worker_id: str) -> None:
        """Live meetings are not restored after a control-plane restart, so a worker the registry
        adopted (its table became the desired one) forwards for meetings that no longer exist:
        empty its table, unless a live meeting of this process already uses the worker (then
        everything on it was put there by this process)."""
        if any(live.media.worker_id == worker_id for live in self.live.values()):
            return
        try:
            if not self.registry.table(worker_id):
                return
            # no await between the check above and the enqueue inside replace_table: a meeting
            # placed on the worker from now on sends its batches after this one
            await self.registry.replace_table(worker_id, [])
            log.info("engine worker %s: cleared a table left by a previous control plane", worker_id)
        except EngineChannelError as error:
            log.warning("engine worker %s: could not clear its stale table: %s", worker_id, error)

    async def _move(self, live: LiveMeeting) -> None:
        """The meeting's worker is gone: place it on a live worker and have every client reconnect
        (new transports, fresh ICE credentials: an ICE restart onto the new worker). Their
        states stay: the sources they publish again keep their switches (`LiveMeeting.republish`)."""
        async with live.lock:
            if self.live.get(live.id) is not live:
                return
            lost = live.media.worker_id
            try:
                worker_id = self.registry.pick_worker(exclude=[lost], require=["webrtc"])
            except EngineChannelError:
                log.error("meeting %s lost its worker %s and no other is live", live.id, lost)
                worker_id = None
            live.republish = {pid: set(peer.publications) for pid, peer in live.media.peers.items()
                              if peer.publications}
            if worker_id is not None:
                live.media = self._media(live.id, worker_id)
                with contextlib.suppress(Exception):
                    async with self._context() as ctx:
                        meeting = await MeetingStore(ctx.session).meeting(live.id)
                        if meeting is not None:
                            meeting.worker_id = worker_id
                        await ctx.session.commit()
            for pid in list(live.links):
                self._send(live, pid, {"type": "reconnect", "reason": "worker_lost"})
            log.warning("meeting %s moved from worker %s to %s", live.id, lost, worker_id)


def _kind(source: Source) -> str:
    from control.domain.roles import KIND

    return KIND[Source(source)].value


def _error(code: str, message: str, ref: str | None) -> dict[str, Any]:
    return {"type": "error", "code": str(code), "message": message, "ref": ref}
