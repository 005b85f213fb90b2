#!/usr/bin/env bash
# Runs `keyless login` for the composite action (action.yml). Every input
# arrives as a KEYLESS_ environment variable set by the step's env: block;
# keyless treats an empty one as unset, so inputs left out keep the CLI's
# defaults. Nothing here interpolates an input into shell code.
set -euo pipefail

bin="${KEYLESS_BIN:?KEYLESS_BIN is not set: the install step did not run}"
if [ "${RUNNER_OS:-}" = Windows ] && command -v cygpath >/dev/null 2>&1; then
  bin="$(cygpath -u "$bin")"
fi

# Re-running a job with debug logging turns keyless's debug lines on too;
# they never carry a secret.
if [ "${RUNNER_DEBUG:-}" = 1 ]; then
  export KEYLESS_DEBUG=true
fi

exec "$bin" login
