#!/usr/bin/env bash
# Installs the keyless binary for the composite action (action.yml).
#
# The binary is the release that matches the action's ref, checked against
# the release's SHA-256 checksums before it ever runs; when there is no such
# release (a branch, a commit that no release tag points at, uses: ./) it is
# built from the action's own source with the runner's Go. Either way the
# code that runs is the code the workflow pinned.
#
# Reads:  KEYLESS_INSTALL_VERSION (the version input: vX.Y.Z, "source" or empty),
#         KEYLESS_ACTION_REF, KEYLESS_ACTION_REPOSITORY, GITHUB_ACTION_PATH,
#         RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH, and
#         KEYLESS_RELEASES_URL, the https server that hosts the repository and
#         its releases (default https://github.com; a mirror, or a test's).
# Writes: the step output "path" and the binary's directory to GITHUB_PATH.
set -euo pipefail

repo="${KEYLESS_ACTION_REPOSITORY:-}"
[ -n "$repo" ] || repo="keyless-dev/keyless"
ref="${KEYLESS_ACTION_REF:-}"
want="${KEYLESS_INSTALL_VERSION:-}"
src="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this through action.yml}"
server="${KEYLESS_RELEASES_URL:-https://github.com}"
server="${server%/}"

semver='^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'

notice() { printf '::notice title=keyless::%s\n' "$*"; }
fail() {
  printf '::error title=keyless::%s\n' "$*"
  exit 1
}

case "$server" in https://*) ;; *) fail "KEYLESS_RELEASES_URL must be an https URL" ;; esac

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) fail "unsupported runner OS ${RUNNER_OS:-unknown}; keyless runs on Linux, macOS and Windows" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) fail "unsupported runner architecture ${RUNNER_ARCH:-unknown}; keyless runs on x64 and arm64" ;;
esac
exe=""
[ "$os" = windows ] && exe=".exe"

# On Windows (Git Bash) the runner's paths are C:\ style: work with the
# POSIX form and hand the native form to Go and to the runner.
posix() { if [ "$os" = windows ] && command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi; }
native() { if [ "$os" = windows ] && command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi; }
src="$(posix "$src")"

tmp="$(posix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")"
# A fresh directory per run: a binary left by an earlier job on a
# self-hosted runner is never reused.
dir="$(mktemp -d "$tmp/keyless.XXXXXXXX")"
bin="$dir/keyless$exe"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# release_for_ref prints the release tag whose commit is the one the action's
# ref names (a SHA, a moving major tag such as v1, a branch), if any.
release_for_ref() {
  local r="$1" refs commit limit=()
  command -v git >/dev/null 2>&1 || return 0
  command -v timeout >/dev/null 2>&1 && limit=(timeout 20)
  refs="$(GIT_TERMINAL_PROMPT=0 ${limit[@]+"${limit[@]}"} git ls-remote --tags --heads "$server/$repo.git" 2>/dev/null)" || return 0
  if [[ "$r" =~ ^[0-9a-f]{40}$ ]]; then
    commit="$r"
  else
    # A peeled line (^{}) names the commit of an annotated tag; it comes
    # after the tag object's line, so the last match wins.
    commit="$(awk -v a="refs/tags/$r" -v b="refs/tags/$r^{}" -v c="refs/heads/$r" \
      '$2 == a || $2 == b || $2 == c { s = $1 } END { print s }' <<<"$refs")"
  fi
  [ -n "$commit" ] || return 0
  awk -v c="$commit" '$1 == c { t = $2; sub(/^refs\/tags\//, "", t); sub(/\^\{\}$/, "", t); print t }' <<<"$refs" |
    grep -E "$semver" | sort -V | tail -n 1 || true
}

download() {
  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 \
    --retry 3 --retry-connrefused --connect-timeout 10 --max-time 120 \
    --output "$2" "$1"
}

# install_release downloads a release archive and its checksums file and
# refuses to go on unless the archive's SHA-256 is the one listed. It returns
# 2 when the release does not exist, so the caller may build from source.
# Callers test its status, which turns set -e off inside it: every command
# that can fail is checked by hand.
install_release() {
  local tag="$1" version archive base expected actual
  version="${tag#v}"
  archive="keyless_${version}_${os}_${arch}.tar.gz"
  base="$server/$repo/releases/download/$tag"
  if ! download "$base/checksums.txt" "$dir/checksums.txt"; then
    return 2
  fi
  download "$base/$archive" "$dir/$archive" || fail "could not download $archive from release $tag"
  expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$dir/checksums.txt")"
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "release $tag lists no single SHA-256 for $archive; refusing to run it"
  actual="$(sha256 "$dir/$archive")"
  if [ "$actual" != "$expected" ]; then
    fail "SHA-256 of $archive is $actual, but release $tag lists $expected; refusing to run it"
  fi
  # Relative names: GNU tar would read a C: in a path as a remote host.
  (cd "$dir" && tar -xzf "$archive" "keyless$exe") || fail "could not unpack $archive"
  rm -f "$dir/$archive" "$dir/checksums.txt"
  echo "keyless $tag for $os/$arch, SHA-256 $actual verified against the release's checksums.txt"
}

build_from_source() {
  command -v go >/dev/null 2>&1 ||
    fail "no keyless release for ref '${ref:-local}' and no Go on this runner to build one: add actions/setup-go (go-version-file: go.mod of keyless) before this step, or pin the action to a release"
  echo "building keyless from the action's source (ref '${ref:-local}') with $(go version)"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$(native "$bin")" ./cmd/keyless) ||
    fail "building keyless from source failed (see above)"
}

if [ "$want" = source ]; then
  build_from_source
elif [ -n "$want" ]; then
  [[ "$want" =~ ^v ]] || want="v$want"
  [[ "$want" =~ $semver ]] || fail "version '$want' is not a release version such as v1.2.3 (or 'source')"
  install_release "$want" || fail "keyless release $want not found in $repo"
else
  tag=""
  if [[ "$ref" =~ $semver ]]; then
    tag="$ref"
  elif [ -n "$ref" ]; then
    tag="$(release_for_ref "$ref")"
  fi
  if [ -z "$tag" ]; then
    build_from_source
  elif ! install_release "$tag"; then
    notice "release $tag has no assets yet; building keyless from the action's source instead"
    build_from_source
  fi
fi

"$bin" version
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'path=%s\n' "$(native "$bin")" >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_PATH:-}" ]; then
  native "$dir" >>"$GITHUB_PATH"
fi
