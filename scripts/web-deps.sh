#!/usr/bin/env bash
# Installs the call bundle's build tools into web/node_modules, exactly as web/package-lock.json
# pins them (`npm ci`), unless they are already there for this lock. The test that rebuilds the
# committed bundle and bench/bench_bundle.py build from them offline.
# Exit status: 0 installed or already current, 1 npm is missing or `npm ci` failed.
set -uo pipefail
cd "$(dirname "$0")/../web"

command -v npm >/dev/null 2>&1 || { echo "web-deps: npm is not on PATH" >&2; exit 1; }
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.studio-lock-sha256
[ "$(cat "$stamp" 2>/dev/null)" = "$lock" ] && exit 0

echo "Installing the call bundle's build tools (npm ci in web/)..."
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; then
  echo "web-deps: npm ci failed" >&2
  exit 1
fi
echo "$lock" > "$stamp"
