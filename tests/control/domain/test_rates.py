from hypothesis import given
from hypothesis import strategies as st

from control.domain.meeting_state import Code
from control.domain.rates import rate_refusal


def test_a_moving_window_of_one_second():
    assert rate_refusal([], 10.0, 1, "things") is None
    assert rate_refusal([9.5], 10.0, 1, "things").code is Code.RATE_LIMITED
    assert rate_refusal([9.0], 10.0, 1, "things") is None  # exactly one second ago: outside
    assert rate_refusal([9.5, 9.6], 10.0, 3, "things") is None
    assert "3 things per second" in rate_refusal([9.5, 9.6, 9.7], 10.0, 3, "things").message


@given(st.lists(st.floats(0, 10), max_size=40), st.floats(0, 10), st.integers(1, 30))
def test_refused_exactly_when_rate_fall_in_the_last_second(recent, now, rate):
    inside = sum(1 for t in recent if 0 <= now - t < 1)
    assert (rate_refusal(recent, now, rate, "x") is not None) == (inside >= rate)
