#!/usr/bin/env bash
# Debian's Chromium (and a Korean font, so screenshots show Hangul) for the browser checks.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi nanum; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-nanum >/dev/null
command -v chromium
