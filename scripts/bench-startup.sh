#!/usr/bin/env bash
# Prints the figures of the README's Speed section, measured on this machine:
#   - the release binary's size;
#   - `keyless version` next to a hello-world Go binary built the same way
#     (paired runs: the two commands alternate, so machine noise hits both);
#   - a whole AWS login (GitLab job token, policy, key fetch, verification,
#     decision, STS exchange, shell output) against the project's loopback
#     fakes (internal/fakeservers), with its peak memory.
# Wall times are medians of paired runs timed by date; when installed,
# hyperfine adds its own view of the start-up.
#   scripts/bench-startup.sh [RUNS]      (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"

work="$(mktemp -d)"
fakes_pid=""
cleanup() {
  if [ -n "$fakes_pid" ]; then kill "$fakes_pid" 2>/dev/null || true; wait "$fakes_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building (as make build does: CGO_ENABLED=0, -trimpath, -s -w)"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/keyless" ./cmd/keyless
mkdir -p "$work/hello"
cat >"$work/hello/main.go" <<'GO'
package main

import "fmt"

func main() { fmt.Println("hello") }
GO
(cd "$work/hello" && go mod init hello >/dev/null 2>&1 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/hello-bin" .)
go build -o "$work/fakeservers" ./internal/fakeservers

size() { stat -c %s "$1"; }
printf 'binary: keyless %s bytes (%.1f MB), hello-world %s bytes\n' \
  "$(size "$work/keyless")" "$(awk -v b="$(size "$work/keyless")" 'BEGIN{print b/1e6}')" "$(size "$work/hello-bin")"

mkdir -p "$work/fakes"
"$work/fakeservers" -policy examples/runners/keyless.yaml -runner-issuer github -pipeline-issuer gitlab \
  -out "$work/fakes" >"$work/fakes.log" 2>&1 &
fakes_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/fakes/env" ] && break
  sleep 0.1
done
[ -s "$work/fakes/env" ] || { echo "bench-startup: the fakes did not start" >&2; cat "$work/fakes.log" >&2; exit 1; }
fake() { sed -n "s/^$1=//p" "$work/fakes/env"; }

# A GitLab job as the fakes mint it (rule deploy-from-gitlab of
# examples/runners/keyless.yaml), in an environment of its own: nothing of
# the shell running the script leaks in. The credentials go to a file
# (keyless refuses to print them to a terminal, and takes /dev/null for one).
cat >"$work/login.sh" <<SH
exec env -i PATH=/usr/bin:/bin HOME="$work" GITLAB_CI=true CI_SERVER_URL="$(fake CI_SERVER_URL)" \
  KEYLESS_AWS_ID_TOKEN="$(fake KEYLESS_AWS_ID_TOKEN)" KEYLESS_POLICY="$(fake FAKE_POLICY)" \
  KEYLESS_AWS_ROLE=arn:aws:iam::111122223333:role/deploy KEYLESS_AWS_REGION=eu-west-1 \
  KEYLESS_AWS_STS_ENDPOINT="$(fake FAKE_AWS_STS_ENDPOINT)" \
  "$work/keyless" login --format shell >"$work/creds"
SH
# The same shell and env -i running hello-world: what the login's figure
# holds that is not keyless.
sed 's|/keyless" login --format shell|/hello-bin"|' "$work/login.sh" >"$work/base.sh"
if ! bash "$work/login.sh" >/dev/null 2>"$work/login.err"; then
  echo "bench-startup: the login against the fakes failed:" >&2
  cat "$work/login.err" >&2
  exit 1
fi

# Medians of paired runs (hello-world, keyless version, the login, in turn,
# so that a busy machine slows all three alike), in microseconds.
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
us() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $((($(date +%s%N) - s) / 1000)); }
: >"$work/h"; : >"$work/v"; : >"$work/b"; : >"$work/l"
for _ in $(seq 1 "$runs"); do
  us "$work/hello-bin" >>"$work/h"
  us "$work/keyless" version >>"$work/v"
  us bash "$work/base.sh" >>"$work/b"
  us bash "$work/login.sh" >>"$work/l"
done
minimum() { sort -n | head -1; }
# The ratio of each pair, then their median: a busy moment slows both sides.
ratio() { paste "$1" "$2" | awk '{printf "%f\n", $1/$2}' | sort -n | awk '{a[NR]=$1} END{printf "%.1f", a[int((NR+1)/2)]}'; }
paste "$work/l" "$work/b" | awk '{print $1-$2}' >"$work/own"
printf '%s paired runs, wall time in microseconds:         median  minimum\n' "$runs"
printf '  hello-world                                      %7d  %7d\n' "$(median <"$work/h")" "$(minimum <"$work/h")"
printf '  keyless version                                  %7d  %7d   paired ratio to hello-world: %s\n' \
  "$(median <"$work/v")" "$(minimum <"$work/v")" "$(ratio "$work/v" "$work/h")"
printf '  AWS login                                        %7d  %7d\n' "$(median <"$work/l")" "$(minimum <"$work/l")"
printf '  AWS login, less the same env -i running hello    %7d  (median of the pairs'"'"' differences)\n' "$(median <"$work/own")"

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 5 --runs "$runs" "$work/hello-bin" "$work/keyless version"
fi

if [ -x /usr/bin/time ]; then
  /usr/bin/time -v bash "$work/login.sh" 2>"$work/time.txt" >/dev/null
  printf 'AWS login peak memory: %s KiB (maximum resident set size)\n' \
    "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")"
fi
