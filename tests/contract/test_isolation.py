"""The contract stands alone: it imports only the standard library, and the control plane starts
and serves its API with no built engine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_contract_imports_only_the_standard_library() -> None:
    out = run("""
        import sys
        before = set(sys.modules)
        import contract.acks, contract.framing, contract.handshake, contract.ops, contract.table
        import contract.speaker, contract.vocabulary
        new = {name.split(".")[0] for name in set(sys.modules) - before}
        print(sorted(n for n in new if n != "contract" and n not in sys.stdlib_module_names))
    """)
    assert out.strip() == "[]"


def test_control_plane_serves_without_the_engine() -> None:
    out = run("""
        import sys
        from importlib.abc import MetaPathFinder

        class NoEngine(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "engine._rtp":
                    raise ImportError("engine._rtp is not built here")
                return None

        sys.meta_path.insert(0, NoEngine())
        from starlette.testclient import TestClient
        from control.app import create_app
        from control.settings import Settings
        import tempfile
        from pathlib import Path
        with tempfile.TemporaryDirectory() as data, TestClient(create_app(Settings(data_dir=Path(data)))) as client:
            response = client.get("/api/v1/openapi.json")
            print(response.status_code, "paths" in response.json())
        print("engine._rtp" in sys.modules)
    """)
    assert out.split() == ["200", "True", "False"]
