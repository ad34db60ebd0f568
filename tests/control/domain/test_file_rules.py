"""control.domain.files: names, types from content, size and quota, and who reads or deletes what."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from control.domain.files import (
    MAX_NAME,
    OCTET_STREAM,
    Budget,
    Purpose,
    Reader,
    SharedFile,
    detect_type,
    may_add_material,
    may_delete,
    may_read,
    sanitize_name,
    size_refusal,
)


@pytest.mark.parametrize(
    ("given_name", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\plan.docx", "plan.docx"),
        (".bashrc", "bashrc"),
        ("...", "file"),
        ("", "file"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ('inv<o>i"ce|?*.pdf', "inv_o_i_ce_.pdf"),
        ("name. ", "name"),
        ("right\u202eto-left.txt", "rightto-left.txt"),
        ("e\u0301te\u0301.txt", "été.txt"),
    ],
)
def test_names_are_sanitised(given_name, kept):
    assert sanitize_name(given_name) == kept


def test_long_names_keep_their_extension():
    name = sanitize_name("x" * 500 + ".pdf")
    assert len(name) == MAX_NAME and name.endswith(".pdf")
    assert len(sanitize_name("y" * 500)) == MAX_NAME


@given(st.text(max_size=400))
def test_any_name_becomes_a_safe_one(text):
    name = sanitize_name(text)
    assert 1 <= len(name) <= MAX_NAME
    assert not set(name) & set('/\\:*?"<>|\x00') and not name.startswith(".")
    assert all(ord(ch) >= 0x20 and ch != "\x7f" for ch in name)
    assert sanitize_name(name) == name


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"%PDF-1.7\n%...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"RIFF\x10\x00\x00\x00XXXX", OCTET_STREAM),
        (b"\x1a\x45\xdf\xa3\x9fB\x86\x81", "video/webm"),
        (b"\x00\x00\x00\x20ftypisom", "video/mp4"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 22 + b"[Content_Types].xml...word/document.xml", None),
        (b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.text", None),
        (b"PK\x03\x04" + b"\x00" * 26 + b"data.csv", "application/zip"),
        (b"hello, world\n", "text/plain"),
        (b"<html><script>alert(1)</script>", "text/plain"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "text/plain"),
        ("caf\u00e9".encode()[:-1], "text/plain"),  # a character cut at the end of the sniffed bytes
        (b"\xc3\x28 not utf-8", OCTET_STREAM),
        (b"text\x00with nul", OCTET_STREAM),
        (b"", OCTET_STREAM),
        (b"MZ\x90\x00", OCTET_STREAM),
    ],
)
def test_types_come_from_the_content(head, media_type):
    detected = detect_type(head)
    if media_type is None:
        assert detected.startswith("application/vnd.")
    else:
        assert detected == media_type


def test_size_and_quota():
    budget = Budget(max_file=100, quota=1000, used=900)
    assert size_refusal(0, budget) is None
    assert size_refusal(100, budget) is None
    assert size_refusal(101, budget)[0] == "file_too_large"
    assert size_refusal(100, Budget(100, 1000, 901))[0] == "storage_quota_exceeded"
    code, message = size_refusal(50, Budget(100, 1000, 990))
    assert code == "storage_quota_exceeded" and "10 bytes left" in message
    assert "0 bytes left" in size_refusal(1, Budget(100, 1000, 1200))[1]  # quota lowered below usage


ALICE, BOB, CAROL = "u:alice", "u:bob", "u:carol"


def reader(*persons, took_part=False, oversees=False):
    return Reader(frozenset(persons), took_part, oversees)


@pytest.mark.parametrize(
    ("purpose", "recipient", "persons", "took_part", "oversees", "reads"),
    [
        # the uploader always reads their own file
        *[(p, r, (ALICE,), t, o, True) for p, r, t, o in itertools.product(Purpose, (None, BOB), (0, 1), (0, 1))],
        # a one-to-one file: its recipient only, whatever their part in the meeting
        *[(Purpose.CHAT, BOB, (BOB,), t, o, True) for t, o in itertools.product((0, 1), (0, 1))],
        *[(Purpose.CHAT, BOB, (CAROL,), t, o, False) for t, o in itertools.product((0, 1), (0, 1))],
        # to everyone, and materials: who took part or is present, and those who oversee
        *[(p, None, (CAROL,), t, o, bool(t or o)) for p, t, o in itertools.product(Purpose, (0, 1), (0, 1))],
    ],
)
def test_who_reads(purpose, recipient, persons, took_part, oversees, reads):
    file = SharedFile(purpose, ALICE, recipient if purpose is Purpose.CHAT else None)
    assert may_read(file, reader(*persons, took_part=bool(took_part), oversees=bool(oversees))) is reads


def test_who_deletes():
    file = SharedFile(Purpose.CHAT, ALICE, BOB)
    assert may_delete(file, frozenset({ALICE}), oversees=False)
    assert not may_delete(file, frozenset({BOB}), oversees=False)
    assert may_delete(file, frozenset({CAROL}), oversees=True)


@pytest.mark.parametrize(("moderates", "participants_may_add", "has_access"), itertools.product((0, 1), repeat=3))
def test_who_adds_materials(moderates, participants_may_add, has_access):
    expected = bool(moderates or (participants_may_add and has_access))
    got = may_add_material(
        moderates=bool(moderates), participants_may_add=bool(participants_may_add), has_access=bool(has_access)
    )
    assert got is expected
