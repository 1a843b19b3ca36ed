#!/usr/bin/env bash
# The dashboard and the HTML reports in a real browser: Debian's chromium driven by
# playwright (never a browser playwright downloads). Installs chromium with apt-get when
# it is missing, and playwright into the project's environment; a browser that cannot be
# had fails the run, it is never skipped. Screenshots land in artifacts/screenshots/;
# `--update-docs` also copies the ones docs/dashboard.md shows into docs/images/.
source "$(dirname "$0")/_env.sh"
update_docs=0
if [ "${1:-}" = "--update-docs" ]; then
  update_docs=1
  shift
fi
if [ -z "${PICTOGRAPH_CHROMIUM:-}" ]; then
  apt_install_missing chromium chromium
fi
if ! python -c "import playwright" >/dev/null 2>&1; then
  python -m pip install --quiet "playwright>=1.40"
fi
# Playwright must launch the system browser, never fetch its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
python -m pytest -c tests/browser/pytest.ini --rootdir tests/browser \
  --confcutdir tests/browser -q "$@" tests/browser
if [ "$update_docs" = 1 ]; then
  mkdir -p docs/images
  for shot in dashboard dashboard-after-10-min dashboard-fault report; do
    cp "artifacts/screenshots/$shot.png" "docs/images/$shot.png"
  done
fi
