#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo use, when they are missing: the PostgreSQL server
# (initdb, pg_ctl, pg_dump), psql (the demo; postgresql depends on it) and promtool. Runs apt-get as root;
# otherwise says what to install.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
# psql comes with postgresql (postgresql-NN depends on postgresql-client-NN); alone only when the server is there.
if ! command -v psql >/dev/null 2>&1 && [ ${#need[@]} -eq 0 ]; then need+=(postgresql-client); fi
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing Debian packages: ${need[*]}." >&2
  echo "install-deps: install them once as root, e.g. 'sudo apt-get install -y --no-install-recommends ${need[*]}'," >&2
  echo "install-deps: or run this as root; then run the make target again." >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists, and apt or unattended-upgrades running: update first, and
# wait for the dpkg lock instead of failing.
apt=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a cluster (main, on 5432) and Prometheus as services when it can; the project runs its own
# on free ports, so they are not needed: stop them (systemd, or the init scripts where systemd is not PID 1,
# e.g. in a container).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl stop prometheus postgresql 2>/dev/null || true
elif command -v service >/dev/null 2>&1; then
  service prometheus stop >/dev/null 2>&1 || true
  service postgresql stop >/dev/null 2>&1 || true
fi
