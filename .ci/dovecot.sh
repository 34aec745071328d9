#!/usr/bin/env bash
# Installs Dovecot's IMAP server for the integration tests (tests/dovecot.py).
#
# The tests start their own private Dovecot per session (own config, own
# base_dir, a free port on 127.0.0.1), so the system service is never needed.
# If the package's maintainer scripts did start it, we stop it so that it holds
# no ports and no runtime files that a test could trip over.
set -euo pipefail

if command -v dovecot >/dev/null 2>&1; then
    echo "dovecot.sh: found $(command -v dovecot) ($(dovecot --version))"
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "dovecot.sh: dovecot is missing and installing it needs root" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd
    echo "dovecot.sh: installed $(command -v dovecot) ($(dovecot --version))"
fi

# The system instance is not used; make sure it is not running. Containers
# usually forbid service starts (policy-rc.d), so this is often a no-op.
if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
    echo "dovecot.sh: stopping the system Dovecot service (not needed by the tests)"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl stop dovecot.service dovecot.socket || true
        systemctl disable dovecot.service dovecot.socket || true
    else
        doveadm stop || service dovecot stop || true
    fi
fi
