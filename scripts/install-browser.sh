#!/usr/bin/env bash
# Install the headless browser the end-to-end tests drive (tests/web): Debian's chromium and
# CJK fonts for the Chinese pages (and the signed PDFs, app/paperwork, which embed them), and
# poppler-utils (pdfsig, pdftotext, pdftoppm) that the PDF tests check the documents with.
# Playwright's own browser download is never used.
# Idempotent: does nothing when both are present. Needs root (or sudo) to install.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get here; install ${need[*]} by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-browser: need root to apt-get install ${need[*]}" >&2
        exit 1
    fi
fi
echo "install-browser: apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
