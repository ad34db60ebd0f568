"""Files in chat and conference materials end to end: aiortc participants in `podium serve`, uploads and
downloads over HTTP with the tokens they joined with, across the permission grid."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from meeting_fixtures import api, people, serve  # noqa: F401
from podium_client import Api, ApiError, Participant, PodiumServer

pytestmark = pytest.mark.timeout(240)

OPERATOR_TOKEN = "operator-" + secrets.token_hex(8)
MAX_FILE = 1024 * 1024


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumServer]:
    yield from serve(tmp_path_factory, "--max-file-size", "1M", "--operator-token", OPERATOR_TOKEN)


def stored(podium: PodiumServer) -> list[Path]:
    """Every file under the files directory, the staging directory included."""
    return sorted(p for p in (podium.data_dir / "files").rglob("*") if p.is_file())


def pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + secrets.token_bytes(size - 9)


async def upload(
    podium: PodiumServer, path: str, token: str, name: str, content: bytes | AsyncIterator[bytes], **query: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=podium.url, timeout=30) as client:
        if isinstance(content, bytes):
            files = {"file": (name, content, "application/octet-stream")}
            return await client.post("/api/v1" + path, params=query, files=files, headers=headers)
        headers["Content-Type"] = f"multipart/form-data; boundary={BOUNDARY}"
        return await client.post("/api/v1" + path, params=query, content=content, headers=headers)


async def download(podium: PodiumServer, url: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=podium.url, timeout=30) as client:
        return await client.get(url, headers={"Authorization": f"Bearer {token}"})


BOUNDARY = "podium-test-boundary"


async def slow_body(name: str, chunks: int, started: asyncio.Event, pause: float = 0.15) -> AsyncIterator[bytes]:
    """A multipart body sent a chunk at a time (no Content-Length): an upload in progress."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"%PDF-1.4\n"
    for index in range(chunks):
        yield secrets.token_bytes(16 * 1024)
        if index == 1:
            started.set()
        await asyncio.sleep(pause)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def member(podium: PodiumServer, api: Api, room: dict, name: str, people: list) -> tuple[str, Participant]:
    user_id, token = await api.create_user(name)
    await api.grant(room["id"], user_id)
    p = await Participant.join(podium, token, room["id"])
    people.append(p)
    return token, p


async def test_files_in_chat_across_the_permission_grid(podium, api, people) -> None:
    room = await api.create_room("Files")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice_token, alice = await member(podium, api, room, "alice", people)
    bob_token, bob = await member(podium, api, room, "bob", people)
    carol_token, carol = await member(podium, api, room, "carol", people)
    meeting = organizer.joined["meeting_id"]
    path = f"/meetings/{meeting}/files"
    assert "files" in alice.joined["you"]["capabilities"]

    # to everyone: named safely, typed from its bytes, announced to all, readable by all present
    report = pdf(300_000)
    shared = await upload(podium, path, alice_token, "../../etc/q3 report?.pdf", report, participant=alice.id)
    assert shared.status_code == 201, shared.text
    public = shared.json()
    assert public["name"] == "q3 report_.pdf" and public["content_type"] == "application/pdf"
    assert public["size"] == len(report) and public["recipient"] is None
    for p in (organizer, bob, carol, alice):
        frame = await p.wait_event("file", lambda f: f["file"]["id"] == public["id"])
        assert frame["from"] == alice.id and frame["to"] is None and frame["file"]["url"] == public["url"]
    for token in (bob_token, carol_token, api.token, alice_token):
        got = await download(podium, public["url"], token)
        assert got.status_code == 200 and got.content == report
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"

    # to one person: only its sender and recipient read it (not the organizer, not carol)
    page = b"<html><script>alert(1)</script></html>"
    private = await upload(podium, path, alice_token, "note.html", page, participant=alice.id, to=bob.id)
    assert private.status_code == 201, private.text
    secret_file = private.json()
    assert secret_file["content_type"] == "text/plain"  # never served as a page from Podium's origin
    await bob.wait_event("file", lambda f: f["file"]["id"] == secret_file["id"])
    assert (await download(podium, secret_file["url"], bob_token)).content == page
    assert (await download(podium, secret_file["url"], alice_token)).status_code == 200
    for token in (carol_token, api.token):
        refused = await download(podium, secret_file["url"], token)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_allowed"
    await asyncio.sleep(0.3)
    assert not [f for f in carol.events if f.get("type") == "file" and f["file"]["id"] == secret_file["id"]]
    listed = await api.call("GET", path, token=carol_token)
    assert [f["id"] for f in listed["items"]] == [public["id"]]
    listed = await api.call("GET", path, token=bob_token)
    assert [f["id"] for f in listed["items"]] == [public["id"], secret_file["id"]]

    # someone else's participant, a stranger's token
    wrong = await upload(podium, path, bob_token, "x.txt", b"hello", participant=alice.id)
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "not_your_participant"
    _, stranger = await api.create_user("stranger")
    assert (await download(podium, public["url"], stranger)).status_code == 404

    # revoked `files`: refused at once, and an upload in progress stops; nothing is kept
    before = stored(podium)
    await organizer.moderate("revoke_permission", target=bob.id, capability="files")
    await bob.wait_event("permission-changed", lambda f: f["capability"] == "files" and not f["held"])
    refused = await upload(podium, path, bob_token, "b.txt", b"hello", participant=bob.id)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_missing"
    await organizer.moderate("grant_permission", target=carol.id, capability="files")  # holds it already
    started = asyncio.Event()
    in_progress = asyncio.ensure_future(
        upload(podium, path, carol_token, "slow.pdf", slow_body("slow.pdf", 30, started), participant=carol.id)
    )
    await started.wait()
    await organizer.moderate("revoke_permission", target=carol.id, capability="files")
    stopped = await asyncio.wait_for(in_progress, 20)
    assert stopped.status_code == 403 and stopped.json()["error"]["code"] == "permission_missing"
    assert stored(podium) == before
    # chat stays: the two rights are separate
    await carol.request({"type": "chat", "text": "files are off for me"})

    # over the size limit: refused on the declared length, and streamed (no length) as the bytes arrive
    too_big = await upload(podium, path, alice_token, "big.pdf", pdf(MAX_FILE + 200_000), participant=alice.id)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "file_too_large"
    started = asyncio.Event()
    streamed = await upload(
        podium, path, alice_token, "big.pdf", slow_body("big.pdf", 80, started, pause=0), participant=alice.id
    )
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "file_too_large"
    assert stored(podium) == before

    # over the company's quota: refused, nothing kept; within it again once a file is deleted
    company = (await api.call("GET", "/company"))["id"]
    async with httpx.AsyncClient(base_url=podium.url) as client:
        quota = await client.patch(
            f"/operator/v1/companies/{company}",
            json={"max_storage_bytes": 300_000 + len(page) + 50_000},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        assert quota.status_code == 200, quota.text
    over = await upload(podium, path, alice_token, "more.pdf", pdf(100_000), participant=alice.id)
    assert over.status_code == 409 and over.json()["error"]["code"] == "storage_quota_exceeded"
    assert stored(podium) == before
    async with httpx.AsyncClient(base_url=podium.url) as client:
        deleted = await client.delete(f"/api/v1/files/{public['id']}", headers={"Authorization": f"Bearer {bob_token}"})
        assert deleted.status_code == 403  # only its uploader and the moderators
        deleted = await client.delete(
            f"/api/v1/files/{public['id']}", headers={"Authorization": f"Bearer {alice_token}"}
        )
        assert deleted.status_code == 204
    assert len(stored(podium)) == len(before) - 1
    assert (await download(podium, public["url"], bob_token)).status_code == 404
    again = await upload(podium, path, alice_token, "more.pdf", pdf(100_000), participant=alice.id)
    assert again.status_code == 201, again.text

    # audited: uploads and the delete
    events = (await api.call("GET", "/audit-events?limit=200"))["items"]
    actions = [e["action"] for e in events if e["target_type"] == "file"]
    assert actions.count("file.uploaded") == 3 and actions.count("file.deleted") == 1


async def test_conference_materials(podium, api, people) -> None:
    room = await api.create_room("Materials")
    agenda = pdf(50_000)
    # the organizer attaches a document before the meeting: it is kept with the room
    added = await upload(podium, f"/rooms/{room['id']}/materials", api.token, "Agenda.pdf", agenda)
    assert added.status_code == 201, added.text
    material = added.json()
    assert material["purpose"] == "material" and material["meeting_id"] is None

    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice_token, alice = await member(podium, api, room, "alice", people)
    bob_id, bob_token = await api.create_user("bob")
    await api.grant(room["id"], bob_id)

    # those present list and read them; someone with access who is not present does not
    listed = await api.call("GET", f"/rooms/{room['id']}/materials", token=alice_token)
    assert [m["id"] for m in listed["items"]] == [material["id"]]
    assert (await download(podium, material["url"], alice_token)).content == agenda
    with pytest.raises(ApiError) as absent:
        await api.call("GET", f"/rooms/{room['id']}/materials", token=bob_token)
    assert absent.value.status == 403 and absent.value.code == "not_present"
    assert (await download(podium, material["url"], bob_token)).status_code == 403

    # participants add materials only where the room allows it
    refused = await upload(podium, f"/rooms/{room['id']}/materials", alice_token, "mine.txt", b"notes")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "materials_moderators_only"
    await api.call("PATCH", f"/rooms/{room['id']}", {"participants_add_materials": True})
    allowed = await upload(podium, f"/rooms/{room['id']}/materials", alice_token, "mine.txt", b"notes")
    assert allowed.status_code == 201, allowed.text
    for p in (organizer, alice):
        frame = await p.wait_event("material-added", lambda f: f["file"]["id"] == allowed.json()["id"])
        assert frame["file"]["name"] == "mine.txt" and frame["file"]["content_type"] == "text/plain"

    # a moderator removes one: those present are told
    async with httpx.AsyncClient(base_url=podium.url) as client:
        gone = await client.delete(
            f"/api/v1/files/{allowed.json()['id']}", headers={"Authorization": f"Bearer {api.token}"}
        )
    assert gone.status_code == 204
    await alice.wait_event("material-removed", lambda f: f["file_id"] == allowed.json()["id"])
    listed = await api.call("GET", f"/rooms/{room['id']}/materials", token=alice_token)
    assert [m["id"] for m in listed["items"]] == [material["id"]]


async def test_guests_share_files_only_with_the_right(podium, api, people) -> None:
    room = await api.create_room("Guests")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    path = f"/meetings/{organizer.joined['meeting_id']}/files"
    with_files = await api.invite_guest(room["id"], "Gus", rights=["microphone", "chat", "files"])
    without = await api.invite_guest(room["id"], "Gwen")  # the default rights: microphone, camera, chat
    gus_token = (await api.redeem(with_files["invitation"], "b" * 32))["guest_token"]
    gwen_token = (await api.redeem(without["invitation"], "c" * 32))["guest_token"]
    gus = await Participant.join(podium, gus_token, room["id"])
    gwen = await Participant.join(podium, gwen_token, room["id"])
    people += [gus, gwen]

    shared = await upload(
        podium, path, gus_token, "photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, participant=gus.id
    )
    assert shared.status_code == 201, shared.text
    assert shared.json()["content_type"] == "image/png" and shared.json()["uploader"].startswith("g:")
    frame = await gwen.wait_event("file", lambda f: f["file"]["id"] == shared.json()["id"])
    assert (await download(podium, frame["file"]["url"], gwen_token)).status_code == 200
    refused = await upload(podium, path, gwen_token, "x.txt", b"hi", participant=gwen.id)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_missing"
    # a guest token of this room reads nothing of another room
    other = await api.create_room("Elsewhere")
    elsewhere = await upload(podium, f"/rooms/{other['id']}/materials", api.token, "a.txt", b"agenda")
    assert (await download(podium, elsewhere.json()["url"], gus_token)).status_code == 404
    # deleting the room deletes its materials, bytes included
    before = stored(podium)
    await api.call("DELETE", f"/rooms/{other['id']}")
    assert len(stored(podium)) == len(before) - 1
