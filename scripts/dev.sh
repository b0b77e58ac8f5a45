#!/usr/bin/env bash
# Web server, Celery worker and Celery beat together. Ctrl-C, or INT or TERM
# sent to this script or to its whole process group (what IDEs and process
# managers send), stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# How long the worker may take to finish the task in hand before it is killed
# (a killed thank-you is sent again by the sweep).
STOP_GRACE_SECONDS=10

# From the settings the three processes will read (the environment, then
# .env): the address to serve, and where emails go, an SMTP server's address
# but never its password.
settings=$($BIN/python - <<'PY'
from referrals_crm import settings as s

print(s.RUNSERVER_HOST)
print(s.RUNSERVER_PORT)
if s.EMAIL_BACKEND == s.OUTBOX_BACKEND:
    url = f"http://{s.RUNSERVER_HOST}:{s.RUNSERVER_PORT}/outbox/"
    print(f"Emails the app sends appear at {url}")
elif s.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    ssl, tls = (getattr(s, name, False) for name in ("EMAIL_USE_SSL", "EMAIL_USE_TLS"))
    tls = " (SSL)" if ssl else " (STARTTLS)" if tls else ""
    print(f"Emails go out through SMTP at {s.EMAIL_HOST}:{s.EMAIL_PORT}{tls}")
else:
    print(f"Emails go to EMAIL_BACKEND {s.EMAIL_BACKEND}")
PY
)
{ read -r HOST; read -r PORT; read -r mail_note; } <<<"$settings"
# Exported so that all three build the links in emails for this address
# (settings derive SITE_URL from them unless SITE_URL is set).
export HOST PORT

worker="" beat="" web=""
stop() {
  # Ignore the signals that may follow (make passes its TERM on): the stop
  # below is bounded, and cutting it short would leave a process behind.
  trap '' INT TERM
  trap - EXIT
  echo; echo "Stopping web, worker and beat..."
  # The worker's main process only: it stops its pool processes itself. Its
  # pool processes, signalled directly, died under it and its warm shutdown
  # hung. The web server's group: runserver's autoreloader and its child.
  if [[ -n $worker ]]; then kill -TERM "$worker" 2>/dev/null || true; fi
  for pid in $web $beat; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + STOP_GRACE_SECONDS))
  while [[ -n $(jobs -pr) ]] && ((SECONDS < deadline)); do sleep 0.1; done
  for pid in $worker $beat $web; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# Each process in a process group of its own (set -m), so that a signal to
# this script's group reaches only the script, which stops them as above.
set -m
$BIN/celery -A referrals_crm worker --loglevel warning --concurrency 2 </dev/null &
worker=$!
$BIN/celery -A referrals_crm beat --loglevel warning </dev/null &
beat=$!
$BIN/python manage.py runserver "$HOST:$PORT" </dev/null &
web=$!
set +m

sleep 2
cat <<MSG

  Referral CRM is running at http://$HOST:$PORT/

  Demo logins (password: demo)
    rep@example.com       rep, team North
    rep2@example.com      rep, team North
    rep3@example.com      rep, team South
    manager@example.com   manager of North
    admin@example.com     admin

  $mail_note
  Press Ctrl-C to stop the web server, the worker and beat.

MSG
# Any one of them exiting stops the others, so nothing keeps running half-alive.
wait -n
