#!/usr/bin/env bash
# Re-fetch the vendored front-end libraries from the npm registry (versions pinned here and in
# vinculo/static/vendor/VERSIONS.md). Run by hand when upgrading; nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=vinculo/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # package version file-in-package target-name [destination folder]
  local pkg=$1 ver=$2 src=$3 out=$4 dest=${5:-$dest}
  (cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null)
  local tgz
  tgz=$(ls "$tmp"/*.tgz | head -1)
  mkdir -p "$tmp/x" && tar -xzf "$tgz" -C "$tmp/x"
  mkdir -p "$(dirname "$dest/$out")"
  cp "$tmp/x/package/$src" "$dest/$out"
  # the .map files are not vendored: drop the reference, or collectstatic (manifest storage) fails
  sed -i -e '/^\/[/*]# sourceMappingURL=/d' "$dest/$out"
  rm -rf "$tmp/x" "$tgz"
}
fetch bootstrap 5.3.9 dist/css/bootstrap.min.css bootstrap/bootstrap.min.css
fetch bootstrap 5.3.9 dist/js/bootstrap.bundle.min.js bootstrap/bootstrap.bundle.min.js
fetch bootstrap-icons 1.13.2 font/bootstrap-icons.min.css bootstrap-icons/bootstrap-icons.min.css
fetch bootstrap-icons 1.13.2 font/fonts/bootstrap-icons.woff2 bootstrap-icons/fonts/bootstrap-icons.woff2
fetch bootstrap-icons 1.13.2 font/fonts/bootstrap-icons.woff bootstrap-icons/fonts/bootstrap-icons.woff
fetch htmx.org 2.0.11 dist/htmx.min.js htmx/htmx.min.js
fetch sortablejs 1.15.7 Sortable.min.js sortablejs/Sortable.min.js
fetch chart.js 4.6.1 dist/chart.umd.min.js chartjs/chart.umd.min.js
# for the tests only (the accessibility walk in chromium), never served
fetch axe-core 4.14.1 axe.min.js axe-core/axe.min.js tests/browser/vendor
fetch axe-core 4.14.1 LICENSE axe-core/LICENSE tests/browser/vendor
echo "vendored into $dest"
echo "then: make icons (the served icon subset is cut from the vendored font)"
