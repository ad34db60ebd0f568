"""A meeting's chat history: /meetings/{meeting_id}/chat (sending goes through signaling)."""

from datetime import datetime

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Page, PageQuery
from control.domain.rooms import names_visible
from control.meetings.visibility import label
from control.services import chat
from control.services.attendance import AttendanceRecorder, user_person_keys

endpoints = EndpointGroup(tag="chat")


class MeetingPath(Input):
    meeting_id: Id


class ChatQuery(PageQuery):
    after_id: int | None = Field(None, ge=0, le=2**62, description="only messages after this one")


class SpeakerOut(BaseModel):
    person: str = Field(description="user id, or a guest's invitee key")
    participant: str = Field(description="the connection it was sent from or to")
    name: str


class ChatMessageOut(BaseModel):
    id: int = Field(description="increasing within the meeting")
    meeting_id: str
    sent_at: datetime
    sender: SpeakerOut
    recipient: SpeakerOut | None = Field(description="null: to everyone")
    text: str = Field(description="as sent, unescaped")


@endpoints.get(
    "/meetings/{meeting_id}/chat",
    path_model=MeetingPath,
    query=ChatQuery,
    response=Page[ChatMessageOut],
    errors=(403, 404),
)
async def list_chat_messages(call: Call) -> Page[ChatMessageOut]:
    """A meeting's chat history

    The meeting's chat as the caller sees it, oldest first: messages to everyone and the caller's own one-to-one
    messages, for people who took part, its moderators and holders of Administrate rooms (403 `no_access` for
    others). `after_id` gives only newer messages, for polling. Without Show all usernames, other people's names
    read "Participant <n>", as in the meeting. Sending goes through signaling (`docs/signaling.md`)."""
    q: ChatQuery = call.query
    page = await chat.history_for(
        call.ctx, call.principal, call.path.meeting_id, offset=q.offset, limit=q.limit, after_id=q.after_id
    )
    messages = [m.item() for m in page.items]
    if not names_visible(call.principal.permissions):
        events = await AttendanceRecorder(call.ctx.session, call.principal.company_id).events(call.path.meeting_id)
        _hide_names(messages, user_person_keys(call.principal.user_id), [e.participant for e in events])
    return Page[ChatMessageOut](
        items=[ChatMessageOut.model_validate(m) for m in messages], total=page.total, offset=q.offset, limit=q.limit
    )


def _hide_names(messages: list[dict], own: tuple[str, ...], arrivals: list[str]) -> None:  # type: ignore[type-arg]
    """Show all usernames: without it, other people's names become "Participant <n>", n the order in
    which their connection first appeared in the meeting (`arrivals`: attendance order, the numbers
    the live meeting used); the caller's own name stays."""
    numbers: dict[str, int] = {}
    for participant in arrivals:
        numbers.setdefault(participant, len(numbers) + 1)
    for message in messages:
        for speaker in (message["sender"], message["recipient"]):
            if speaker is None or speaker["person"] in own:
                continue
            number = numbers.setdefault(speaker["participant"], len(numbers) + 1)
            speaker["name"] = label(number)
