#!/usr/bin/env bash
# Runs `keyless login` for the composite action (action.yml). Every input
# arrives as a KEYLESS_ environment variable set by the step's env: block;
# keyless treats an empty one as unset, so inputs left out keep the CLI's
# defaults. Nothing here interpolates an input into shell code.
set -euo pipefail

bin="${KEYLESS_BIN:?KEYLESS_BIN is not set: the install step did not run}"

# Re-running a job with debug logging turns keyless's debug lines on too;
# they never carry a secret.
if [ "${RUNNER_DEBUG:-}" = 1 ]; then
  export KEYLESS_DEBUG=true
fi

exec "$bin" login
