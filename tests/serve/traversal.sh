#!/usr/bin/env bash
# otakit serve: no request reaches outside the served directory. Dot-dot in every
# spelling, encoded and double-encoded, absolute-form targets, symlinks that point out
# (absolute and relative), NUL bytes and hidden files are answered 400 / 403 / 404, and
# no answer ever carries the outside file's contents.
source "$(dirname "$0")/../lib/testlib.bash"

t_make_www
ln -s "$T/outside/secret.txt" "$T/www/abs-link.txt"
ln -s ../outside/secret.txt "$T/www/rel-link.txt"
ln -s ../outside "$T/www/outdir"
ln -s hello-world.bin "$T/www/inside-link.bin"
ln -s sub "$T/www/sublink"
mkfifo "$T/www/pipe"
mkdir -p "$T/www/.git"
printf 'hidden-config\n' >"$T/www/.git/config"

t_serve_start main "$T/www" --drain-timeout 1

# probe TARGET WANT...: request TARGET as-is; the status must be one of WANT and the body
# must not contain the secret
probe() {
  local target=$1
  shift
  local code
  : >"$T/body"
  code=$(t_curl --path-as-is -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$T_PORT$target" || echo 000)
  if grep -q 'TOP-SECRET-OUTSIDE\|hidden-config\|^hidden$' "$T/body"; then
    t_fail "$target leaked a file outside the directory or a hidden file"
    return
  fi
  local w
  for w in "$@"; do
    if [[ $code == "$w" ]]; then
      t_ok "$target -> $code"
      return
    fi
  done
  t_fail "$target -> $code, want one of $*"
}

probe '/../outside/secret.txt' 403
probe '/sub/../../outside/secret.txt' 403
probe '/%2e%2e/outside/secret.txt' 403
probe '/%2E%2E/outside/secret.txt' 403
probe '/..%2foutside%2fsecret.txt' 403
probe '/sub%2f..%2f..%2foutside%2fsecret.txt' 403
probe '/.%2e/outside/secret.txt' 403
probe '/%252e%252e/outside/secret.txt' 404       # double-encoded: a literal "%2e%2e" name
probe '/..\outside\secret.txt' 403 404
probe '/%5c..%5coutside%5csecret.txt' 403 404
probe "/$T/outside/secret.txt" 404              # absolute paths stay under the root
probe '//etc/passwd' 404
probe '/abs-link.txt' 403
probe '/rel-link.txt' 403
probe '/outdir/secret.txt' 403
probe '/outdir/' 403
probe '/.env' 404
probe '/.git/config' 404
probe '/sub/../.env' 403 404
probe '/%2eenv' 404
probe '/hello-world.bin%00.txt' 400
probe '/%00' 400
probe '/pipe' 403
probe '/.' 200 301
code=$(t_curl --path-as-is -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$T_PORT/inside-link.bin")
t_expect_eq "a symlink that stays inside is served" "$code" 200
t_check "... with the target's bytes" cmp -s "$T/body" "$T/www/hello-world.bin"
code=$(t_curl -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$T_PORT/sublink/inner.txt")
t_expect_eq "a directory symlink that stays inside is followed" "$code" 200

# raw requests curl will not send
raw() { "$T_PY" "$T_HTTP_CLIENT" raw "$T_PORT" "$1"; }
r=$(raw "b'GET /hello-world.bin\\x00/../../outside/secret.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
t_check "a literal NUL byte never reaches outside ($r)" grep -Eq '^HTTP/1\.1 (200|4[0-9][0-9])' <<<"$r"
r=$(raw "b'GET http://127.0.0.1/../outside/secret.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
t_check "absolute-form target with .. -> 4xx ($r)" grep -Eq '^HTTP/1\.1 4[0-9][0-9]' <<<"$r"
r=$(raw "b'GET ../outside/secret.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
t_check "relative target -> 4xx ($r)" grep -Eq '^HTTP/1\.1 4[0-9][0-9]' <<<"$r"
r=$(raw "b'GET /\\x01.bin HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
t_check "control byte in the target -> 4xx ($r)" grep -Eq '^HTTP/1\.1 4[0-9][0-9]|CLOSED' <<<"$r"

# the listing shows neither hidden files nor links that leave the directory
t_curl -o "$T/index.json" "http://127.0.0.1:$T_PORT/?format=json"
names=$("$T_PY" -c "import json; print(' '.join(f['name'] for f in json.load(open('$T/index.json'))['files']))")
t_expect_eq "index lists only what can be served" "$names" "hello-world.bin inside-link.bin notes.txt sub sublink"

# the server is still fine
t_expect_http "still serving after the attempts" 200 "http://127.0.0.1:$T_PORT/hello-world.bin"
t_serve_stop main
t_expect_eq "clean stop" "$T_STOP_RC" 0
t_check "no access log line shows a 200 for the secret" bash -c "! grep -E 'secret.txt.* 200 ' '$T/main.out'"

t_finish
