# The on-call shell has the app's settings (ADMIN_TOKEN, ADMIN_DATABASE_URL, ...) as variables,
# read from the app's .env, as the team's login profile does. Runbook commands rely on it.
if [ -r /var/www/chatbot/.env ] && [ "$(id -u)" = 0 ]; then
  set -a
  # shellcheck disable=SC1091
  . /var/www/chatbot/.env
  set +a
fi
