"""Operations per second, as a pure check over when the earlier ones were accepted."""

from collections.abc import Sequence

from control.domain.meeting_state import Code, Refused


def rate_refusal(recent: Sequence[float], now: float, rate: int, what: str) -> Refused | None:
    """`recent`: when earlier operations were accepted (seconds). Refused (`rate_limited`) when `rate`
    of them fall within the second before `now`, a moving window."""
    if sum(1 for t in recent if 0.0 <= now - t < 1.0) >= rate:
        return Refused(Code.RATE_LIMITED, f"at most {rate} {what} per second")
    return None
