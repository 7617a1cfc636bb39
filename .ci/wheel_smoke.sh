#!/usr/bin/env bash
# Wheel smoke test: build the wheel, install it in fresh venvs and run it from another folder.
#   (a) `pip install hanoi-matcher`: `matcher score` on the sample profiles, `matcher.assess`, no Flask,
#       and `matcher serve` says which extra it needs;
#   (b) `pip install 'hanoi-matcher[web]'`: `matcher serve` starts, answers /api/v1/health and /assess,
#       and loads the sample leads.
# Prints PASS/FAIL lines; exits non-zero on the first failure. Everything happens in a temporary
# folder (the wheel is built from a copy of the sources), so the working tree stays as it was.
set -euo pipefail
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
export MATCHER_CACHE_DIR="$work/cache"  # a first run, as on a fresh machine (and nothing left in ~/.cache)
server=""
installing=""
started=$SECONDS

cleanup() {
  for pid in $server $installing; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
pass() { echo "PASS: $* [$((SECONDS - started)) s]"; }
fail() {
  echo "FAIL: $*"
  [ -s "$work/step.log" ] && sed 's/^/    /' "$work/step.log" | tail -n 30
  exit 1
}
# Run a command quietly; on failure show its output.
quiet() { "$@" >"$work/step.log" 2>&1; }
# A fresh venv without pip of its own (this pip installs into it: faster) holding $2 and its
# dependencies from pip's index and cache; no bytecode compiling (most of the time of an install).
venv_with() {
  python3 -m venv --without-pip "$1" && python3 -m pip --python "$1/bin/python" install --no-compile "$2"
}

echo "== wheel smoke test"
mkdir "$work/src"
cp -r "$repo"/{setup.cfg,pyproject.toml,MANIFEST.in,README.md,LICENSE,matcher,web} "$work/src/" || fail "copy the sources"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
quiet python3 -m pip wheel --no-deps -w "$work/dist" "$work/src" || fail "pip wheel"
wheel="$(ls "$work"/dist/hanoi_matcher-*.whl)"
pass "built $(basename "$wheel")"

# The web venv installs in the background while (a) runs: the two installs overlap.
web="$work/venv-web"
venv_with "$web" "$wheel[web]" >"$work/install-web.log" 2>&1 &
installing=$!

# (a) the library alone, run from an empty folder
lib="$work/venv-lib"
quiet venv_with "$lib" "$wheel" || fail "pip install $(basename "$wheel")"
if "$lib/bin/python" -c "import flask" 2>/dev/null; then fail "the library install pulled in Flask"; fi
pass "pip install hanoi-matcher: no Flask"
mkdir "$work/a" && cd "$work/a"
cp "$repo/matcher/data/sample_profiles.csv" in.csv
quiet "$lib/bin/matcher" score in.csv -o out.csv || fail "matcher score"
rows="$("$lib/bin/python" -c "import csv; print(sum(1 for _ in csv.reader(open('out.csv', encoding='utf-8'))) - 1)")"
[ "$rows" = 48 ] || fail "matcher score wrote $rows rows, expected 48"
pass "matcher score from another folder: $rows rows"
score="$("$lib/bin/python" -c "import matcher; print(matcher.assess({'name': 'A', 'description': 'software', \
'training': 'yes', 'investment_usd': '2m'}).score)" 2>"$work/step.log")" || fail "matcher.assess"
pass "matcher.assess from another folder: score $score"
code=0
"$lib/bin/matcher" serve >"$work/step.log" 2>&1 || code=$?
[ "$code" = 2 ] && [ "$(cat "$work/step.log")" = "matcher: error: the web app needs the extra: pip install \
'hanoi-matcher[web]'" ] || fail "matcher serve without the web extra: exit $code"
pass "matcher serve without the web extra: one line, exit 2"

# (b) the web app, run from an empty folder; its instance folder (SQLite file, key) is <venv>/var/web-instance
wait "$installing" || { cp "$work/install-web.log" "$work/step.log"; installing=""; fail "pip install [web]"; }
installing=""
pass "pip install 'hanoi-matcher[web]'"
mkdir "$work/b" && cd "$work/b"
port="$("$web/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
# As README runs it: no SECRET_KEY (matcher serve keeps a random key in the instance folder).
env -u DATABASE_URL -u REDIS_URL -u MATCHER_SECTORS -u SECRET_KEY -u MATCHER_SECRET_KEY \
  "$web/bin/matcher" serve --port "$port" >"$work/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
status() {  # HTTP status of GET $1 (000 when nothing answers)
  "$web/bin/python" - "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print("000")
EOF
}
for _ in $(seq 120); do
  [ "$(status "$base/api/v1/health")" = 200 ] && break
  kill -0 "$server" 2>/dev/null || { cp "$work/serve.log" "$work/step.log"; fail "matcher serve exited"; }
  sleep 0.5
done
cp "$work/serve.log" "$work/step.log"
[ "$(status "$base/api/v1/health")" = 200 ] || fail "matcher serve: /api/v1/health did not answer"
pass "matcher serve from another folder: /api/v1/health 200"
[ "$(status "$base/assess")" = 200 ] || fail "matcher serve: /assess is not 200"
pass "matcher serve: /assess 200"
grep -q "loaded 48 sample leads" "$work/serve.log" || fail "matcher serve did not load the 48 sample leads"
pass "matcher serve: 48 sample leads loaded"
kill "$server" && wait "$server" 2>/dev/null || true
server=""
echo "PASS: wheel smoke test in $((SECONDS - started)) s"
