#!/usr/bin/env bash
# Everything `npm start` and `npm test` need on a fresh Debian/Ubuntu machine with Node 20,
# done only when missing: Debian packages, `npm ci`, the build, the project-local kernelspec.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: Jupyter Notebook + nbclient/nbconvert (run with /usr/bin/python3);
# g++ and oneDNN for the engine's native kernels; Cairo, Pango and the image libraries that
# `canvas` (@convlab/viz) builds against when its prebuilt binary cannot be downloaded;
# Fashion-MNIST, the lessons' data when MNIST cannot be downloaded. With --test (npm test) also
# Chromium and the Liberation fonts of its screenshots: the browser test drives Debian's Chromium
# through playwright-core (browsers cannot be downloaded here); `npm start` does not need them.
debs=(jupyter-notebook python3-nbclient jupyter-nbconvert jupyter-client python3-nbformat g++ make libdnnl-dev
  pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev dataset-fashion-mnist)
if [ "${1:-}" = "--test" ]; then debs+=(chromium fonts-liberation); fi
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "convlab setup: missing Debian packages: ${missing[*]}. Run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "convlab setup: installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm dependencies: `npm ci` when package-lock.json changed since the last install.
stamp=node_modules/.convlab-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "convlab setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# Native kernels: npm ci builds them; rebuild when their sources changed since.
addon=packages/engine/build/Release/convlab_native.node
if [ ! -f "$addon" ] || [ -n "$(find packages/engine/native packages/engine/binding.gyp -newer "$addon" -print -quit)" ]; then
  node packages/engine/scripts/build-native.js
fi

# Build: when a source or config is newer than the last build.
mkdir -p .convlab
built=.convlab/build.stamp
if [ ! -f "$built" ] || [ -n "$(find packages/*/src packages/*/package.json packages/*/tsconfig*.json tsconfig.base.json -newer "$built" -print -quit)" ]; then
  echo "convlab setup: building packages"
  npx lerna run build --loglevel warn
  touch "$built"
fi

# The `convlab` command (node_modules/.bin/convlab -> the kernel's dist/cli.js): npm ci links a
# workspace's bins only when their files exist, and dist/ is built after it.
if [ ! -e node_modules/.bin/convlab ]; then
  npm rebuild --ignore-scripts --no-audit --no-fund >/dev/null
fi

# Kernelspec in the project-local JUPYTER_PATH (.convlab/jupyter).
node packages/kernel/dist/cli.js install --jupyter-path .convlab/jupyter >/dev/null
