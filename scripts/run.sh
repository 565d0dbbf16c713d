#!/usr/bin/env bash
# Usage: scripts/run.sh   (what `make run` runs after migrate)
#   Settings from the environment: VENV [.venv]  HOST [127.0.0.1]  PORT [8000]
#   WORKERS [nproc]  QUEUES [ocr,ocr-provider]  WEBHOOK_QUEUE [ocr-webhooks]
# Runs a Celery worker (OCR, one process per core), a second small one for webhook
# deliveries (threads: a slow receiver never holds an OCR process) and Django's
# development server until Ctrl-C, SIGTERM or SIGHUP, then sends each one SIGTERM and
# waits for all. For the workers that is a warm shutdown: they finish the tasks they
# are running. A second Ctrl-C makes it a cold one (SIGQUIT: running tasks are
# abandoned and redelivered later). If any process ends by itself, the others are
# stopped too and the script exits with the status of the first.
set -uo pipefail  # no -e: the statuses of `wait` are read below, not fatal
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WORKERS=${WORKERS:-$(nproc)}
QUEUES=${QUEUES:-ocr,ocr-provider}
WEBHOOK_QUEUE=${WEBHOOK_QUEUE:-${OCR_WEBHOOK_QUEUE:-ocr-webhooks}}

echo "Starting web server on http://$HOST:$PORT/ and $WORKERS Celery worker process(es); Ctrl-C stops them."

# Each child runs in its own session (setsid), out of the terminal's foreground process
# group: Ctrl-C, which the terminal sends to that whole group, reaches only this script
# (and make), and each child gets exactly the signals sent below. Otherwise Celery would
# see the terminal's SIGINT and then ours (a second signal, which it takes for a cold
# shutdown) and its pool processes would be interrupted under it.
setsid "$VENV/bin/celery" -A onlineocr worker --loglevel=INFO --concurrency="$WORKERS" \
  --pool=prefork -Q "$QUEUES" -n "ocr@%h" &
worker=$!
setsid "$VENV/bin/celery" -A onlineocr worker --loglevel=INFO --concurrency=4 \
  --pool=threads -Q "$WEBHOOK_QUEUE" -n "webhooks@%h" --without-gossip --without-mingle &
hooks=$!
setsid "$VENV/bin/python" manage.py runserver "$HOST:$PORT" --noreload &
web=$!

caught=""
on_signal() {
  if [ -z "$caught" ]; then
    caught=$1
    echo "run: stopping the web server and the workers (they finish their running tasks; Ctrl-C again to abandon them)"
    kill -TERM "$worker" "$hooks" "$web" 2>/dev/null
  else
    echo "run: cold shutdown of the workers"
    kill -QUIT "$worker" "$hooks" 2>/dev/null
  fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# `wait -n` returns when a child ends or a trapped signal arrives.
wait -n "$worker" "$hooks" "$web"
status=$?
if [ -z "$caught" ]; then
  echo "run: a process ended by itself (status $status); stopping the others" >&2
  kill -TERM "$worker" "$hooks" "$web" 2>/dev/null
fi
# Until all have ended (a second Ctrl-C interrupts `wait`: wait again).
while kill -0 "$worker" 2>/dev/null || kill -0 "$hooks" 2>/dev/null || kill -0 "$web" 2>/dev/null; do
  wait "$worker" "$hooks" "$web" 2>/dev/null
done

if [ -n "$caught" ]; then
  # End by the same signal, so that a calling shell or make sees an interrupt, not success.
  trap - "$caught"
  kill -s "$caught" $$
fi
exit "$status"
