"""What a chat message may say: the text rule, checked before anyone receives a message.

Who may send is moderation policy (`control.domain.moderation.check_chat` over the meeting state).
Raw text is kept as sent, but it must be storable on every backend and displayable.
"""

import unicodedata

MAX_TEXT = 4000
"""Longest message, in characters (code points)."""

_ALLOWED_CONTROLS = frozenset("\t\n")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be a chat message, or None: not blank, at most MAX_TEXT characters, no NUL or
    other control characters (tab and newline allowed; a carriage return is a control character), no
    lone surrogates."""
    if not text.strip():
        return "a chat message cannot be empty"
    if len(text) > MAX_TEXT:
        return f"a chat message has at most {MAX_TEXT} characters, this one has {len(text)}"
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"a chat message cannot contain the control character U+{ord(ch):04X}"
        if category == "Cs":
            return f"a chat message cannot contain the lone surrogate U+{ord(ch):04X}"
    return None
