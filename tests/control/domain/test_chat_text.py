"""The chat text rule: what a message may say before anyone receives it."""

from hypothesis import given
from hypothesis import strategies as st

from control.domain.chat import MAX_TEXT, text_problem


def test_text_rules():
    assert text_problem("hello\n\tworld <script>alert(1)</script> & 'quotes' 👋") is None
    assert text_problem("x" * MAX_TEXT) is None
    assert "at most" in (text_problem("x" * (MAX_TEXT + 1)) or "")
    assert "empty" in (text_problem(" \n\t ") or "")
    assert "empty" in (text_problem("") or "")
    assert "U+0000" in (text_problem("a\x00b") or "")
    assert "U+000D" in (text_problem("a\r\nb") or "")
    assert "U+001B" in (text_problem("\x1b[31mred") or "")
    assert "surrogate U+D800" in (text_problem("a\ud800") or "")


@given(st.text(max_size=50))
def test_every_accepted_text_is_storable_utf8_without_controls(text):
    if text_problem(text) is None:
        text.encode("utf-8")
        assert "\x00" not in text and text.strip()
