#!/usr/bin/env bash
# The production-like stack on this machine: nginx -> uWSGI -> Django, Celery
# workers (local OCR queue and provider queue) and beat, on PostgreSQL and Redis.
#
# Usage: scripts/serve.sh start|stop|status|reload   (make serve / serve-stop / ...)
# Idempotent: `start` starts what is not running and re-renders nginx's config.
# Everything listens on loopback; logs and pids go to $SERVE_DIR (var/serve).
#
# Environment (defaults in brackets):
#   NGINX_PORT [8080]  SERVE_HOST [127.0.0.1]  SERVE_DIR [var/serve]  SERVE_NAME [serve]
#   DATABASE_URL [postgres://postgres@127.0.0.1:5432/onlineocr]
#   CELERY_BROKER_URL [redis://127.0.0.1:6379/0]   OCR_CACHE_URL [redis://127.0.0.1:6379/1]
#   OCR_QUEUE [ocr]  OCR_PROVIDER_QUEUE [ocr-provider]  OCR_WEBHOOK_QUEUE [ocr-webhooks]
#   SERVE_OCR_CONCURRENCY [nproc]  SERVE_PROVIDER_CONCURRENCY [4]  SERVE_BEAT [1]
#   OCR_MEDIA_ROOT [media]  DJANGO_STATIC_ROOT [staticfiles]  VENV [.venv]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
PY="$ROOT/$VENV/bin/python"
SERVE_DIR=$(realpath -m "${SERVE_DIR:-var/serve}")
SERVE_NAME=${SERVE_NAME:-serve}
SERVE_HOST=${SERVE_HOST:-127.0.0.1}

export NGINX_PORT=${NGINX_PORT:-8080}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/onlineocr}
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}
export OCR_CACHE_URL=${OCR_CACHE_URL:-redis://127.0.0.1:6379/1}
export OCR_QUEUE=${OCR_QUEUE:-ocr}
export OCR_PROVIDER_QUEUE=${OCR_PROVIDER_QUEUE:-ocr-provider}
export OCR_WEBHOOK_QUEUE=${OCR_WEBHOOK_QUEUE:-ocr-webhooks}
export OCR_MEDIA_ROOT=$(realpath -m "${OCR_MEDIA_ROOT:-media}")
export DJANGO_STATIC_ROOT=$(realpath -m "${DJANGO_STATIC_ROOT:-staticfiles}")
export OCR_X_ACCEL_REDIRECT=${OCR_X_ACCEL_REDIRECT:-true}
export OCR_NUM_PROXIES=${OCR_NUM_PROXIES:-1}
export OCR_STATIC_USE_FINDERS=${OCR_STATIC_USE_FINDERS:-false}
export OMP_THREAD_LIMIT=1
export PYTHONUNBUFFERED=1
OCR_CONCURRENCY=${SERVE_OCR_CONCURRENCY:-$(nproc)}
PROVIDER_CONCURRENCY=${SERVE_PROVIDER_CONCURRENCY:-4}
UWSGI_SOCK="$SERVE_DIR/uwsgi.sock"
PROCS=(nginx uwsgi beat worker-provider worker-ocr)   # stop order

pid_of() { # name -> pid if running
  local f="$SERVE_DIR/$1.pid"
  [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

launch() { # name command... : start in its own session unless already running
  local name=$1; shift
  if pid=$(pid_of "$name"); then
    echo "  $name already running (pid $pid)"
    return
  fi
  setsid "$@" >"$SERVE_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$SERVE_DIR/$name.pid"
  echo "  $name started (pid $!), log $SERVE_DIR/$name.log"
}

wait_for() { # description seconds command...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "serve: $what not ready after ${secs}s; see $SERVE_DIR/*.log" >&2
      return 1
    fi
    sleep 0.3
  done
}

max_body() { # the app's body limit: base64 of OCR_MAX_UPLOAD_BYTES plus 64 KiB, in KiB
  local bytes=${OCR_MAX_UPLOAD_BYTES:-20971520}
  echo "$(((bytes * 4 / 3 + 65536 + 1023) / 1024))k"
}

max_batch_body() { # POST /api/batches/: base64 of OCR_MAX_BATCH_BYTES plus 1 MiB, in KiB
  local bytes=${OCR_MAX_BATCH_BYTES:-209715200}
  echo "$(((bytes * 4 / 3 + 1048576 + 1023) / 1024))k"
}

render_nginx() {
  mkdir -p "$SERVE_DIR/nginx/tmp"
  NGINX_LISTEN="$SERVE_HOST:$NGINX_PORT" UWSGI_UPSTREAM="unix:$UWSGI_SOCK" \
    STATIC_ROOT="$DJANGO_STATIC_ROOT" MEDIA_ROOT="$OCR_MEDIA_ROOT" NGINX_MAX_BODY="$(max_body)" \
    NGINX_MAX_BATCH_BODY="$(max_batch_body)" \
    NGINX_RUN_DIR="$SERVE_DIR/nginx" NGINX_ACCESS_LOG="$SERVE_DIR/nginx-access.log" \
    NGINX_ERROR_LOG="$SERVE_DIR/nginx-error.log" \
    envsubst '${NGINX_LISTEN} ${UWSGI_UPSTREAM} ${STATIC_ROOT} ${MEDIA_ROOT} ${NGINX_MAX_BODY} ${NGINX_MAX_BATCH_BODY} ${NGINX_RUN_DIR} ${NGINX_ACCESS_LOG} ${NGINX_ERROR_LOG}' \
    <nginx.conf >"$SERVE_DIR/nginx.conf"
}

nginx_globals() {
  # As root, nginx's workers run as the owner of the tree so they can read static/,
  # media/ (X-Accel-Redirect) and the uWSGI socket; otherwise as the current user.
  local g="daemon off;"
  if [[ $(id -u) -eq 0 ]]; then
    g="$g user $(stat -c %U "$ROOT") $(stat -c %G "$ROOT");"
  fi
  echo "$g"
}

start() {
  mkdir -p "$SERVE_DIR" "$OCR_MEDIA_ROOT"
  echo "serve: database ${DATABASE_URL%%\?*}, broker $CELERY_BROKER_URL"
  "$PY" scripts/ensure-database.py
  "$PY" manage.py migrate --noinput >"$SERVE_DIR/migrate.log"
  "$PY" manage.py collectstatic --noinput >"$SERVE_DIR/collectstatic.log"
  render_nginx
  nginx -t -q -c "$SERVE_DIR/nginx.conf" -e "$SERVE_DIR/nginx-error.log" -g "$(nginx_globals)"

  local nodes="$SERVE_NAME-$(id -un)"
  launch worker-ocr "$ROOT/$VENV/bin/celery" -A onlineocr worker --loglevel=INFO \
    -Q "$OCR_QUEUE" -n "ocr-$nodes@%h" --pool=prefork --concurrency="$OCR_CONCURRENCY" \
    --without-gossip --without-mingle
  launch worker-provider "$ROOT/$VENV/bin/celery" -A onlineocr worker --loglevel=INFO \
    -Q "$OCR_PROVIDER_QUEUE,$OCR_WEBHOOK_QUEUE" -n "provider-$nodes@%h" --pool=prefork \
    --concurrency="$PROVIDER_CONCURRENCY" --without-gossip --without-mingle
  if [[ ${SERVE_BEAT:-1} == 1 ]]; then
    launch beat "$ROOT/$VENV/bin/celery" -A onlineocr beat --loglevel=INFO \
      -s "$SERVE_DIR/celerybeat-schedule" --pidfile="$SERVE_DIR/celerybeat.pid"
  fi
  UWSGI_SOCKET="$UWSGI_SOCK" UWSGI_VIRTUALENV="$ROOT/$VENV" \
    launch uwsgi "$ROOT/$VENV/bin/uwsgi" --ini uwsgi.ini
  wait_for "uWSGI socket" 60 test -S "$UWSGI_SOCK"
  if pid=$(pid_of nginx); then
    nginx -c "$SERVE_DIR/nginx.conf" -e "$SERVE_DIR/nginx-error.log" -s reload
    echo "  nginx already running (pid $pid), configuration reloaded"
  else
    # shellcheck disable=SC2046
    launch nginx nginx -c "$SERVE_DIR/nginx.conf" -e "$SERVE_DIR/nginx-error.log" \
      -g "$(nginx_globals)"
  fi
  local url="http://$SERVE_HOST:$NGINX_PORT"
  wait_for "nginx" 30 curl -fsS "$url/api/health/live/"
  wait_for "OCR worker" 90 grep -q "ready." "$SERVE_DIR/worker-ocr.log"
  wait_for "provider worker" 90 grep -q "ready." "$SERVE_DIR/worker-provider.log"
  echo "serve: up at $url/  (health: $url/api/health/, stop: make serve-stop)"
}

stop() {
  local name pid
  for name in "${PROCS[@]}"; do
    pid=$(pid_of "$name") || { rm -f "$SERVE_DIR/$name.pid"; continue; }
    if [[ $name == nginx ]]; then kill -QUIT "$pid"; else kill -TERM "$pid"; fi
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "  $name did not stop in 20 s; killing its process group"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$SERVE_DIR/$name.pid"
    echo "  $name stopped"
  done
  rm -f "$UWSGI_SOCK"
}

status() {
  local name rc=0
  for name in "${PROCS[@]}"; do
    if pid=$(pid_of "$name"); then echo "$name: running (pid $pid)"; else echo "$name: stopped"; rc=3; fi
  done
  return $rc
}

reload() { # graceful: uWSGI finishes requests in flight; nginx re-reads its config
  render_nginx
  pid=$(pid_of uwsgi) && kill -HUP "$pid" && echo "  uwsgi reloading"
  pid=$(pid_of nginx) && nginx -c "$SERVE_DIR/nginx.conf" -e "$SERVE_DIR/nginx-error.log" -s reload \
    && echo "  nginx reloaded"
  return 0
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  reload) reload ;;
  *) echo "usage: $0 start|stop|status|reload" >&2; exit 2 ;;
esac
