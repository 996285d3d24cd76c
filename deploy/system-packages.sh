#!/bin/sh
# The system programs the scaled homeserver runs on (make scale-test): PostgreSQL, Redis and
# nginx from the distribution's packages. Installs the missing ones with apt-get when run as
# root on Debian/Ubuntu; otherwise prints exactly what to install and exits 1.
#
# On a machine with systemd, installing these packages also starts their stock services
# (postgresql on 5432, redis-server on 6379, nginx on 80). The scaled homeserver does not use
# them: it runs its own instances on free loopback ports under its data directory.
set -eu

missing=""
PATH="$PATH:/usr/sbin:/sbin"  # nginx is in /usr/sbin, off an ordinary user's PATH
have_postgres() {
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
have_postgres || missing="$missing postgresql"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v nginx >/dev/null 2>&1 || missing="$missing nginx"

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the system packages the scaled homeserver needs:$missing"
    apt-get update
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
    exit 0
fi
echo "make scale-test needs these system packages:$missing" >&2
echo "install them (Debian/Ubuntu) with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
exit 1
