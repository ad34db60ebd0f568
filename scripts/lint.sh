#!/usr/bin/env bash
# Static checks: ruff lint, ruff format check, and mypy --strict on the packages that must stay pure
# (policy and the control <-> worker contract). Runs every check, then fails if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
python3 -m ruff check . || status=1
python3 -m ruff format --check . || status=1

# Strictness is set in pyproject.toml ([tool.mypy]); only the pure packages are named here.
strict=()
for path in control/domain contract; do
    [ -d "$path" ] && strict+=("$path")
done
if [ ${#strict[@]} -gt 0 ]; then
    python3 -m mypy "${strict[@]}" || status=1
fi
exit $status
