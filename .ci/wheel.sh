#!/usr/bin/env bash
# The tracker installs as a package: build the wheel, install it (not editable)
# into a fresh virtual environment, and play the demo from an empty folder
# elsewhere, so that nothing can come from the source tree. Building and
# installing must print no warning.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
pip=("$work/venv/bin/pip" --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade pip >"$work/pip.log" 2>&1
"${pip[@]}" wheel --no-deps --wheel-dir "$work/dist" . >"$work/build.log" 2>&1
"${pip[@]}" install "$work"/dist/*.whl >"$work/install.log" 2>&1
# (pip's own notes about this machine's package index settings are not ours.)
if grep -i -E "warning|deprecat" "$work/build.log" "$work/install.log" \
    | grep -v -E "WARNING: Location '.*' is ignored"; then
    echo "building or installing the wheel printed a warning (above)" >&2
    exit 1
fi
mkdir "$work/elsewhere"
cd "$work/elsewhere"
env -u TRACKER_DATABASE_URL -u TRACKER_ENV_FILE "$work/venv/bin/tracker" demo --no-serve \
    --folder "$work/elsewhere/demo" >demo.log
grep -q "^Imported Capacity Building for Chinese Cities" demo.log
sent=$(find demo/outbox -name '*.eml' | wc -l)
test "$sent" -gt 40
TRACKER_DATABASE_URL="sqlite:///$work/elsewhere/demo/demo.db" "$work/venv/bin/tracker" status >/dev/null
echo "wheel: built, installed and ran the demo from $work/elsewhere ($sent messages)"
