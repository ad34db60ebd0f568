#!/usr/bin/env bash
# The README's test command: install what the tests need, run the static checks, then the whole suite.
# Both run even when the first fails, so one run reports everything; the exit status is non-zero if either failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
lint=0
bash scripts/lint.sh || lint=$?
# Two pytest processes, each taking a whole test file at a time (module fixtures stay in one process),
# the Chromium meetings that time media one after another (tests/conftest.py says why): most of the
# time goes to end-to-end tests that wait on browsers, sockets and timers. Every test makes its own
# servers, ports, namespaces and databases, so they run side by side. PODIUM_TEST_PROCESSES=0 runs
# everything in this one process.
python3 -m pytest -n "${PODIUM_TEST_PROCESSES:-2}" --dist loadgroup "$@"
exit $lint
