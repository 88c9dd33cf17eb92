#!/usr/bin/env bash
# Refresh the JavaScript libraries the residents' page loads, from the npm registry.
#
# The page must work with no route to a CDN, so MapLibre GL JS is served by the app from
# app/static/vendor/maplibre-gl/. This script fetches the pinned version with `npm pack`
# (no node_modules, no build), checks the package's integrity as npm reports it, copies
# the files the page loads and the licence, and prints what it copied.
#
# Usage: scripts/vendor_web.sh [maplibre-gl version]
set -euo pipefail

# 5.x ships one UMD file with its worker inside (about 275 KB gzipped); 6.x splits an ES
# module and a worker module (about 460 KB gzipped), too close to the page's 600 KB budget.
MAPLIBRE_VERSION="${1:-5.24.1}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$repo_root/app/static/vendor/maplibre-gl"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent --json "maplibre-gl@$MAPLIBRE_VERSION" >pack.json
integrity="$(node -e 'console.log(JSON.parse(require("fs").readFileSync("pack.json"))[0].integrity)')"
tar xzf "maplibre-gl-$MAPLIBRE_VERSION.tgz"

mkdir -p "$target"
cp package/dist/maplibre-gl.js package/dist/maplibre-gl.css "$target/"
cp package/LICENSE.txt "$target/LICENSE.txt"

cat >"$target/README.md" <<README
# MapLibre GL JS $MAPLIBRE_VERSION, vendored

The map of the residents' page (\`/\`), served by the app itself so that the page works on a
network without a route to a CDN.

- **What:** \`maplibre-gl.js\` (UMD build, its web worker inside) and \`maplibre-gl.css\` of
  the npm package \`maplibre-gl\` $MAPLIBRE_VERSION (npm integrity
  \`$integrity\`), copied unmodified.
- **Licence:** BSD-3-Clause, © MapLibre contributors and Mapbox: \`LICENSE.txt\` here.
- **Why 5.x:** one file of about 275 KB gzipped; 6.x weighs about 460 KB gzipped (an ES
  module and a worker module), too close to the page's budget of 600 KB of compressed
  JavaScript and CSS.
- **Checked by** \`tests/app/test_page.py\`, which drives the page in headless Chromium with
  every request outside the service refused, and sums the gzipped size of what it loads.

To update: \`scripts/vendor_web.sh <version>\` (default $MAPLIBRE_VERSION), then run that test.
README

for file in maplibre-gl.js maplibre-gl.css; do
    gz=$(gzip -9 -c "$target/$file" | wc -c)
    printf '%s %s: %d bytes, %d gzipped\n' "maplibre-gl@$MAPLIBRE_VERSION" "$file" \
        "$(wc -c <"$target/$file")" "$gz"
done
printf 'integrity %s\n' "$integrity"
