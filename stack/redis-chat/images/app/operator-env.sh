# The on-call shell has the app's settings (REDIS_URL, CRON_SECRET, ...) as variables, read from
# /srv/chat-system/.env.local as the team's login profile does. Runbook commands rely on it.
if [ -r /srv/chat-system/.env.local ] && [ "$(id -u)" = 0 ]; then
  set -a
  # shellcheck disable=SC1091
  . /srv/chat-system/.env.local
  set +a
fi
