#!/bin/sh
# npm install's first step (preinstall): node-gyp builds the native addon with a C++ compiler, make
# and python3. As root on Debian it installs build-essential and python3 when one is missing (and
# says so); elsewhere it names what is missing and fails. `npm test` installs the rest.
set -eu
missing=""
for t in g++ make python3; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
  echo "npm install: installing Debian packages build-essential python3 (missing:$missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends build-essential python3
else
  echo "npm install: missing$missing, which the native addon's build needs (Debian: apt-get install build-essential python3)" >&2
  exit 1
fi
