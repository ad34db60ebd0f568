#!/usr/bin/env bash
# The README's test command: install what the tests need, run the static checks, then the whole suite.
# Both run even when the first fails, so one run reports everything; the exit status is non-zero if either failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
lint=0
bash scripts/lint.sh || lint=$?
python3 -m pytest "$@"
exit $lint
