#!/usr/bin/env bash
# Makes sure Debian's chromium and chromedriver are installed, for the headless /docs test
# (tests/e2e/test_docs_browser.py). `make test` calls it first. Idempotent: when both are
# there it only checks that their versions match and prints nothing. Never a browser from a
# CDN: the packages come from the machine's Debian archive. Needs root (or sudo) to install.
set -euo pipefail
say() { printf '[browser] %s\n' "$*" >&2; }

major() { "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9.]+' | head -1 | cut -d. -f1; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "chromium and chromedriver are missing and there is no apt-get: install them by hand"
    exit 1
  fi
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      say "chromium and chromedriver are missing: run as root, or install Debian's chromium and chromium-driver"
      exit 1
    fi
  fi
  say "installing Debian's chromium and chromium-driver (once)"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >&2
fi

browser="$(major chromium)"
driver="$(major chromedriver)"
if [[ -z "$browser" || "$browser" != "$driver" ]]; then
  say "chromium ($browser) and chromedriver ($driver) differ: reinstall both from the same archive"
  exit 1
fi
