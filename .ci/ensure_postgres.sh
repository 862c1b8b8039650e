#!/usr/bin/env bash
# The clinic-sync tests start a throwaway PostgreSQL cluster with the distribution's server
# programs (initdb, pg_ctl); install them when this machine has none.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q postgresql
fi
ls /usr/lib/postgresql/*/bin/initdb
