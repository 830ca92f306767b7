#!/usr/bin/env bash
# The README's walk-through, run verbatim: its first `sh` block, against the quick start's server
# (`sesame serve --dev`, on 127.0.0.1:4433 and 4434, in an empty directory), then a check that each
# step answered as the README says. Needs curl and jq, as the README does.
#
#   cargo build -p sesame-cli && .ci/walkthrough.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${SESAME_BIN:-$root/target/debug/sesame}"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

awk '/^## Walk-through/ { section = 1 } section && /^```sh$/ { block = 1; next } block && /^```$/ { exit } block' \
  "$root/README.md" > "$work/walkthrough.sh"
test -s "$work/walkthrough.sh" || { echo "no walk-through block in README.md"; exit 1; }

(cd "$work" && exec env -u DSN -u SERVE_PUBLIC_PORT -u SERVE_ADMIN_PORT "$bin" serve --dev) > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:4433/health/ready > /dev/null && break
  sleep 0.1
done

out="$(cd "$work" && bash -euo pipefail walkthrough.sh 2>&1)" || { echo "$out"; echo "the walk-through failed"; exit 1; }
echo "$out"
expect() {
  grep -qiE -- "$1" <<< "$out" || { echo "walk-through: expected $2 (/$1/)"; cat "$work/server.log"; exit 1; }
}
expect '"session_token": "ory_st_[A-Za-z0-9]{32}"' 'registration to sign the new user in (step 1)'
expect '^ory_st_[A-Za-z0-9]{32}$' 'a session token from the login (step 2)'
expect '^HTTP/1.1 200 OK' 'whoami to answer 200 (step 3)'
expect '^x-kratos-authenticated-identity-id: [0-9a-f-]{36}' 'the identity header on whoami (step 3)'
expect '"email": "alice@example.com"' 'the traits from the bearer whoami (step 3) and the admin list'
expect '^HTTP/1.1 204 No Content' 'the logout to answer 204 (step 4)'
expect '^HTTP/1.1 401 Unauthorized' 'whoami after the logout to answer 401 (step 4)'
expect '"id":"session_inactive"' 'the 401 to say session_inactive (step 4)'
echo "the README walk-through passes verbatim"
