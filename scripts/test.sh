#!/usr/bin/env bash
# Installs what the test suite needs (Python packages, Debian's chromium) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  # As root run apt-get directly; otherwise through sudo. `env` carries the variable either way.
  as_root=(env DEBIAN_FRONTEND=noninteractive)
  [ "$(id -u)" -ne 0 ] && as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
fi

# The import rules (pyproject.toml, [tool.importlinter]) hold before any test runs.
lint-imports --no-cache
exec python -m pytest "$@"
