#!/usr/bin/env bash
# The public API of the published crates, listed from rustdoc's JSON (all features) and compared
# with the lists committed under api/: a change to the public API shows in the diff that makes
# it. `bash scripts/public_api.sh --bless` writes the lists anew after a reviewed change.
#
# rustdoc's JSON output is unstable: RUSTC_BOOTSTRAP=1 lets the stable toolchain write it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in jetbase jetbase-core; do
  name=${crate//-/_}
  RUSTC_BOOTSTRAP=1 cargo rustdoc --quiet --locked -p "$crate" --lib --all-features \
    -- -Z unstable-options --output-format json
  python3 scripts/public_api.py "target/doc/$name.json" > "target/doc/$name.api.txt"
  if [ "${1:-}" = "--bless" ]; then
    cp "target/doc/$name.api.txt" "api/$crate.txt"
  elif ! diff -u "api/$crate.txt" "target/doc/$name.api.txt"; then
    echo "The public API of $crate changed (above). If that is intended, say so in the commit" >&2
    echo "(a breaking change for users), and record it: bash scripts/public_api.sh --bless" >&2
    status=1
  fi
done
exit $status
