#!/usr/bin/env bash
# Installs the system packages figurebot's renderer uses: FriBiDi (right-to-left text shaping in
# Pillow) and the Noto CJK and colour-emoji fonts (too large to bundle); and the PostgreSQL server
# the tests start a throwaway copy of. Does nothing when they are already there; on systems without
# apt it says what to install instead.
set -euo pipefail
packages=(libfribidi0 fonts-noto-cjk fonts-noto-color-emoji postgresql)
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: no apt-get here; install FriBiDi, the Noto CJK and Noto Color Emoji fonts and PostgreSQL yourself" >&2
    exit 0
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
