"""`podium serve`'s metrics token: made once, kept readable by its user only, and kept."""

from __future__ import annotations

import stat

from podium.cli import METRICS_TOKEN_FILE, metrics_token_file


def test_the_token_is_made_once_and_readable_by_its_user_only(tmp_path) -> None:
    data_dir = tmp_path / "data"
    token = metrics_token_file(data_dir)
    path = data_dir / METRICS_TOKEN_FILE
    assert len(token) >= 40 and path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert metrics_token_file(data_dir) == token  # the next start keeps it (Prometheus' configuration too)
    path.write_text("")
    assert metrics_token_file(data_dir) not in ("", token)  # an emptied file gets a new one
