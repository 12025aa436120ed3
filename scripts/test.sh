#!/usr/bin/env bash
# Installs what the test suite needs (Python packages, Debian's chromium and postgresql) and runs
# every test.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

# Debian packages the tests need where they are missing: chromium (browser tests) and postgresql
# (the shared-ledger tests start a throwaway cluster from /usr/lib/postgresql/<ver>/bin).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
pg_root=${STUDIO_PG_ROOT:-/usr/lib/postgresql}
if ! compgen -G "$pg_root/*/bin/initdb" >/dev/null || ! compgen -G "$pg_root/*/bin/pg_ctl" >/dev/null; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian's ${missing[*]} for the tests..."
  # As root run apt-get directly; otherwise through sudo. `env` carries the variable either way.
  as_root=(env DEBIAN_FRONTEND=noninteractive)
  [ "$(id -u)" -ne 0 ] && as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The call bundle's build tools, for the test that rebuilds the committed bundle from web/. Without
# them that test skips (or fails under CI=true) and says why; every other test still runs.
bash scripts/web-deps.sh || echo "Could not install web/node_modules; the bundle rebuild test will say why."

# The import rules (pyproject.toml, [tool.importlinter]) hold before any test runs.
lint-imports --no-cache
exec python -m pytest "$@"
