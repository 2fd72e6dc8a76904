#!/usr/bin/env bash
# Renders the compatibility matrix of the three sample results files in a real browser
# (headless Chromium) and checks that every cell of the rendered page shows what the
# results files say (scripts/matrix-dom-check.py computes each cell from the JSON). Then
# proves the checker can fail, by showing it the page with one cell removed and with one
# count changed, and takes the screenshot $out/matrix.png (docs/matrix.png is the real matrix of the three implementations).
#
#   scripts/browser-check.sh           check; exit 0 only if the page is right
#   scripts/browser-check.sh --break   remove one cell from the page first; must exit 1
#
# Needs: cargo, python3, chromium (installed with apt-get when missing). No network
# otherwise: the page fetches nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=check
case "${1:-}" in
  "") ;;
  --break) mode=break ;;
  *) echo "usage: $0 [--break]" >&2; exit 2 ;;
esac

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

data=conformance/tests/data/matrix
samples=("$data/nono-ref.json" "$data/nono-0.81.json" "$data/kipz-0.42.json")
out=target/matrix-check
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo run -q -p nono-conformance --example matrix -- --out "$out" "${samples[@]}" >/dev/null

# Mutilates an HTML file in place: `remove` drops the first statement cell of the last
# implementation, `recount` changes the count shown in the first failing cell.
mutilate() {
  python3 - "$1" "$2" <<'PY'
import re, sys
how, path = sys.argv[1], sys.argv[2]
page = open(path, encoding="utf-8").read()
if how == "remove":
    cell = re.search(r'<td class="cell [^"]*" data-impl="kipz-0\.42" data-statement="[^"]*".*?</td>', page, re.S)
    assert cell, "no cell to remove"
    page = page[:cell.start()] + page[cell.end():]
else:
    label = re.search(r'(<td class="cell fail"[^>]*>.*?<span class="label">fail )(\d+)/', page, re.S)
    assert label, "no failing cell to recount"
    page = page[:label.start(2)] + str(int(label.group(2)) + 1) + page[label.end(2):]
open(path, "w", encoding="utf-8").write(page)
PY
}

chromium_run() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$work")" "$@" 2>>"$work/chromium.log"
}

page="$(pwd)/$out/index.html"
if [ "$mode" = break ]; then
  mutilate remove "$page"
  echo "removed one cell from $page: the check below must fail"
fi

chromium_run --dump-dom "file://$page" >"$work/dom.html"
if [ ! -s "$work/dom.html" ]; then
  echo "chromium rendered nothing; its log:" >&2
  cat "$work/chromium.log" >&2
  exit 1
fi
python3 scripts/matrix-dom-check.py "$work/dom.html" "${samples[@]}"

# A checker that cannot fail proves nothing: the same DOM with one cell removed, or with
# one count changed, must be rejected.
for how in remove recount; do
  cp "$work/dom.html" "$work/broken.html"
  mutilate "$how" "$work/broken.html"
  if python3 scripts/matrix-dom-check.py "$work/broken.html" "${samples[@]}" >"$work/negative.txt"; then
    echo "the checker accepted a page mutilated by '$how': it cannot fail" >&2
    exit 1
  fi
  echo "negative control '$how': rejected ($(head -1 "$work/negative.txt"))"
done

chromium_run --screenshot="$(pwd)/$out/matrix.png" --window-size=1400,900 --hide-scrollbars "file://$page" >/dev/null
echo "screenshot: $out/matrix.png"
