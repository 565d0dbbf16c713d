#!/bin/sh
# Renders /etc/onlineocr/nginx.conf.template (the repository's nginx.conf) with the
# container's environment and runs nginx in the foreground.
set -eu
mkdir -p "$NGINX_RUN_DIR/tmp"
envsubst '${NGINX_LISTEN} ${UWSGI_UPSTREAM} ${STATIC_ROOT} ${MEDIA_ROOT} ${NGINX_MAX_BODY} ${NGINX_MAX_BATCH_BODY} ${NGINX_RUN_DIR} ${NGINX_ACCESS_LOG} ${NGINX_ERROR_LOG}' \
  < /etc/onlineocr/nginx.conf.template > "$NGINX_RUN_DIR/nginx.conf"
exec nginx -c "$NGINX_RUN_DIR/nginx.conf" -e /dev/stderr -g 'daemon off;'
