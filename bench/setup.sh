#!/usr/bin/env bash
# Set-up for `techauction bench`: installs Debian's wrk when missing and, with
# --start-services, starts the machine's PostgreSQL and Redis on their default loopback
# ports when they are down (as .ci/run does). Safe to run again.
set -euo pipefail

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench set-up: installing wrk (Debian package)" >&2
    if ! apt-get install -y -q wrk >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q wrk >/dev/null
    fi
fi
wrk --version 2>&1 | head -n 1 >&2 || true

if [[ "${1:-}" == "--start-services" ]]; then
    if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
        echo "bench set-up: starting PostgreSQL" >&2
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
        for _ in $(seq 1 60); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
    fi
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        echo "bench set-up: starting Redis" >&2
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
        for _ in $(seq 1 60); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
    fi
fi
