#!/bin/sh
# Installs Debian's Chromium for the browser tests (tests/integration/test_s3_browser.py).
# A no-op when it is already there; skips with a message when it cannot install.
set -u
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "install-browser: not root, skipping Chromium (browser tests will be skipped)" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get, skipping Chromium (browser tests will be skipped)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation; } >/dev/null; then
    echo "install-browser: apt-get could not install chromium (browser tests will be skipped)" >&2
fi
exit 0
