import subprocess
import sys


def test_podium_help_lists_serve():
    result = subprocess.run([sys.executable, "-m", "podium.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "serve" in result.stdout
