#!/bin/sh
# Entrypoint of the Trustlink container image (deploy/Dockerfile).
#
#   docker-entrypoint.sh [serve] [--config FILE]  start the platform (the default)
#   docker-entrypoint.sh healthcheck               exit 0 when /readyz answers 200
#   docker-entrypoint.sh <command> ...             any other `trustlink` command
#
# The script finds the application relative to itself (<app>/deploy/docker-entrypoint.sh), so
# the image (/app) and a checkout run the same file; the deployment test runs it from the
# repository as a plain process.
set -eu

app_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cli="$app_dir/packages/server/dist/cli.js"

die() {
  printf 'trustlink-entrypoint: %s\n' "$*" >&2
  exit 2
}

# Replica mode: the database is PostgreSQL, so other processes may share it. Each replica
# must then be handed the one master key; none may generate its own on an empty database,
# or two replicas starting together would seal their keys under different master keys.
preflight() {
  db_url=${TRUSTLINK_DATABASE_URL:-${DATABASE_URL:-}}
  case $db_url in
    postgres://* | postgresql://*) ;;
    *) return 0 ;;
  esac
  if [ -n "${TRUSTLINK_MASTER_KEY:-}" ]; then
    return 0
  fi
  key_file=${TRUSTLINK_MASTER_KEY_FILE:-./secrets/master.key}
  if [ ! -e "$key_file" ]; then
    die "replica mode (PostgreSQL database) needs the instance's master key, and $key_file does not exist: mount it there (TRUSTLINK_MASTER_KEY_FILE) or set TRUSTLINK_MASTER_KEY; every replica must have the same key, so none generates one"
  fi
  if [ ! -r "$key_file" ]; then
    die "replica mode: the master key file $key_file is not readable by uid $(id -u)"
  fi
  if [ ! -s "$key_file" ]; then
    die "replica mode: the master key file $key_file is empty"
  fi
}

# Asks the plain-HTTP PKI listener, which every replica runs, so no TLS trust is needed here.
healthcheck() {
  host=${TRUSTLINK_BIND_ADDRESS:-0.0.0.0}
  case $host in
    0.0.0.0 | '::' | '') host=127.0.0.1 ;;
  esac
  port=${TRUSTLINK_PKI_HTTP_PORT:-8080}
  exec node -e '
const [host, port] = process.argv.slice(1);
const req = require("node:http").get(
  { host, port: Number(port), path: "/readyz", timeout: 4000 },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on("timeout", () => req.destroy(new Error("no answer within 4 s")));
req.on("error", (err) => {
  process.stderr.write(`healthcheck: ${err.message}\n`);
  process.exit(1);
});
' "$host" "$port"
}

[ -f "$cli" ] || die "$cli is missing: the application is not built"

case ${1:-serve} in
  serve)
    [ $# -gt 0 ] && shift
    preflight
    exec node "$cli" serve "$@"
    ;;
  -*)
    preflight
    exec node "$cli" serve "$@"
    ;;
  healthcheck)
    healthcheck
    ;;
  *)
    exec node "$cli" "$@"
    ;;
esac
