"""control.domain.webhooks: the backoff schedule, acknowledgement, payloads and receiver addresses."""

from datetime import UTC, datetime, timedelta

import pytest

from control.domain.webhooks import EventType, Retry, address_refusal, delivered, next_attempt, payload

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap_then_gives_up():
    retry = Retry(base=timedelta(seconds=5), cap=timedelta(minutes=1), attempts=6)
    delays = [next_attempt(retry, n, T0) for n in range(1, 7)]
    assert [(d - T0).total_seconds() for d in delays[:5]] == [5, 10, 20, 40, 60]
    assert delays[5] is None


def test_acknowledged_only_by_2xx():
    assert delivered(200) and delivered(204) and delivered(299)
    assert not any(delivered(s) for s in (100, 301, 400, 410, 500, 503))


def test_payload_follows_the_specification():
    body = payload(EventType.FILE_UPLOADED, T0, {"file_id": "f"})
    assert body == {"type": "file.uploaded", "timestamp": "2030-01-01T00:00:00Z", "data": {"file_id": "f"}}
    assert {e.value for e in EventType} >= {"meeting.started", "meeting.ended", "recording.ready"}


@pytest.mark.parametrize(
    ("address", "private_refused", "always_refused"),
    [
        ("93.184.216.34", False, False),
        ("2606:4700::1111", False, False),
        ("127.0.0.1", True, False),
        ("10.1.2.3", True, False),
        ("192.168.0.10", True, False),
        ("169.254.169.254", True, False),  # cloud metadata
        ("::1", True, False),
        ("fc00::1", True, False),
        ("0.0.0.0", True, True),
        ("224.0.0.1", True, True),
    ],
)
def test_receiver_addresses(address, private_refused, always_refused):
    assert (address_refusal(address, private_allowed=False) is not None) is private_refused
    assert (address_refusal(address, private_allowed=True) is not None) is always_refused
