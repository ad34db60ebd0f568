"""The web client's unit tests (tests/web/*.test.mjs) run under node's built-in test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_web_client_units_pass_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: run scripts/install-test-deps.sh (installs Debian's nodejs)", pytrace=False)
    result = subprocess.run(
        [node, "--test", str(HERE)], cwd=HERE.parent.parent, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(
            f"node --test tests/web/ failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False
        )
