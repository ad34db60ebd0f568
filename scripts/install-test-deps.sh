#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: system packages, then Podium with its test extras
# (pytest and its plugins, ruff, mypy).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)   # the engine's extension and the C baselines
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)   # the web client's unit tests (node --test)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)   # TURN relay tests (tests/e2e/test_turn_relay.py)
command -v nft >/dev/null 2>&1 || need+=(nftables)        # the NAT of tests/e2e/test_serve_addresses.py
command -v ip >/dev/null 2>&1 || need+=(iproute2)         # the tests' network namespaces
command -v janus >/dev/null 2>&1 || need+=(janus)         # the peer SFU of bench.peer_sfu (its VideoRoom plugin)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
    # The package's own cluster is not used: tests start a private one on loopback.
    if command -v pg_ctlcluster >/dev/null 2>&1; then pg_ctlcluster --force 15 main stop >/dev/null 2>&1 || true; fi
    # Nor is coturn's: tests start their own on loopback ports.
    if [ -x /etc/init.d/coturn ]; then /etc/init.d/coturn stop >/dev/null 2>&1 || true; fi
    # Nor is Janus's: the benchmark starts its own with a private configuration.
    if [ -x /etc/init.d/janus ]; then /etc/init.d/janus stop >/dev/null 2>&1 || true; fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
# axe-core, for the browser tests' accessibility checks (package.json; test-only, the client has no build)
npm ci --no-audit --no-fund --silent
