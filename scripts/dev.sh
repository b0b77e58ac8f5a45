#!/usr/bin/env bash
# Web server, Celery worker and Celery beat together; one Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping web, worker and beat..."
  pkill -TERM -P "$web" 2>/dev/null || true  # runserver's autoreload child
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$BIN/celery -A referrals_crm worker --loglevel warning --concurrency 2 &
pids+=($!)
$BIN/celery -A referrals_crm beat --loglevel warning &
pids+=($!)
$BIN/python manage.py runserver "$HOST:$PORT" &
web=$!
pids+=($web)

sleep 2
cat <<MSG

  Referral CRM is running at http://$HOST:$PORT/

  Demo logins (password: demo)
    rep@example.com       rep, team North
    rep2@example.com      rep, team North
    rep3@example.com      rep, team South
    manager@example.com   manager of North
    admin@example.com     admin

  Emails the app sends appear at http://$HOST:$PORT/outbox/
  Press Ctrl-C to stop the web server, the worker and beat.

MSG
# Any one of them exiting stops the others, so nothing keeps running half-alive.
wait -n
