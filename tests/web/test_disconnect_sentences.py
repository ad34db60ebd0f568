"""Every reason a `disconnected` frame may give (docs/signaling.md) has a sentence in the meeting page
(control/web/app/meeting-ui.js, DISCONNECT): a fresh-clone trial showed a guest whose invitation was
revoked "Disconnected (revoked).", the fallback for a reason the page did not know."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def documented_reasons() -> set[str]:
    (row,) = [
        line for line in (REPO / "docs/signaling.md").read_text().splitlines() if line.startswith("| `disconnected` |")
    ]
    reasons = row.split("|")[2]
    return set(re.findall(r"`([a-z_]+)`", reasons.split("`until`")[0])) - {"reason"}


def sentences() -> set[str]:
    source = (REPO / "control/web/app/meeting-ui.js").read_text()
    block = source[source.index("const DISCONNECT = {") : source.index("};", source.index("const DISCONNECT = {"))]
    return set(re.findall(r"^\s+([a-z_]+):", block, re.MULTILINE))


def test_every_documented_reason_has_a_sentence() -> None:
    reasons = documented_reasons()
    assert {"left", "banned", "revoked", "company_suspended"} <= reasons  # the row was read
    assert reasons - sentences() == set()
