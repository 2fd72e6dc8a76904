#!/usr/bin/env python3
"""Checks a compatibility-matrix page as a browser rendered it (Chromium's --dump-dom).

Every cell the page must have is computed here from the results files themselves, by the
rules documented in conformance/src/matrix/cell.rs, written a second time on purpose: an
independent reading, not the Rust code checking itself. For each implementation and each
class, and for each implementation and each statement, the rendered page must have exactly
one cell with the right colour class and the right text; a failing cell must list its
failing cases, an expected-failure cell must give its reasons on hover, and no markup from a
case message may have become an element.

usage: matrix-dom-check.py DOM.html RESULTS.json...   (exit 1 on any mismatch)
"""
import json
import sys
from html.parser import HTMLParser

CLASSES = ["core", "profiles", "profile-show", "supervisor", "mediation", "mediation-seed",
           "seatbelt", "tools", "hardening"]


class Cells(HTMLParser):
    """Collects every <td data-impl=...>: its attributes, its label text and all its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells = {}
        self.duplicates = []
        self.scripts = 0
        self.current = None
        self.depth = 0
        self.in_label = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if self.current is not None:
            if tag == "td":
                self.depth += 1
            if tag == "span" and attrs.get("class") == "label":
                self.in_label += 1
            elif self.in_label:
                self.in_label += 1
            return
        if tag == "td" and "data-impl" in attrs:
            kind = "class" if "data-class" in attrs else "statement"
            key = (attrs["data-impl"], kind, attrs.get("data-class") or attrs.get("data-statement"))
            self.current = {"key": key, "css": (attrs.get("class") or "").split(), "title": attrs.get("title", ""),
                            "label": "", "text": ""}
            self.depth = 1

    def handle_endtag(self, tag):
        if self.current is None:
            return
        if self.in_label:
            self.in_label -= 1
        if tag == "td":
            self.depth -= 1
            if self.depth == 0:
                key = self.current["key"]
                if key in self.cells:
                    self.duplicates.append(key)
                self.cells[key] = self.current
                self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current["text"] += data
            if self.in_label:
                self.current["label"] += data


def ran(t):
    return t["passed"] + t["failed"] + t["expected_fail"]


def expected_cells(files):
    """{key: (css, label, must_contain_text, must_contain_title)} for every cell."""
    present = [c for c in CLASSES
               if any(k["class"] == c for f in files for k in f["classes"])
               or any(s["class"] == c for f in files for s in f["statements"])]
    statements = []
    for f in files:
        for s in f["statements"]:
            if s["class"] in present and s["id"] not in [x[0] for x in statements]:
                statements.append((s["id"], s["class"]))
    out = {}
    for f in files:
        slug = f["implementation"]["slug"]
        claimed = {}
        for k in f["classes"]:
            if k["claimed"] and k["verdict"] != "not-claimed":
                total = {n: sum(k[lv][n] for lv in ("must", "should", "may"))
                         for n in ("passed", "failed", "expected_fail", "skipped")}
                claimed[k["class"]] = (k["verdict"], total)
        for c in present:
            if c in claimed and claimed[c][0] == "untested":
                out[(slug, "class", c)] = ("untested", "untested", [], [])
            elif c in claimed:
                verdict, t = claimed[c]
                out[(slug, "class", c)] = (verdict, f"{verdict} {t['passed']}/{ran(t)}", [], [])
            else:
                out[(slug, "class", c)] = ("unclaimed", "not claimed", [], [])
        by_id = {s["id"]: s for s in f["statements"]}
        for sid, c in statements:
            key = (slug, "statement", sid)
            if c not in claimed:
                out[key] = ("unclaimed", "not claimed", [], [])
                continue
            if sid not in by_id:
                out[key] = ("none", "no result", [], [])
                continue
            t = by_id[sid]
            cases = [k for k in f["cases"] if sid in k["spec"]]
            if t["failed"]:
                css, word = "fail", "fail"
            elif t["expected_fail"]:
                css, word = "xfail", "expected fail"
            elif t["passed"]:
                css, word = "pass", "pass"
            elif t["skipped"]:
                out[key] = ("skipped", f"skipped {t['skipped']}", [], [])
                continue
            else:
                out[key] = ("none", "no result", [], [])
                continue
            label = f"{word} {t['passed']}/{ran(t)}" + (f", {t['skipped']} skipped" if t["skipped"] else "")
            failing = [k["id"] for k in cases if k["status"] == "failed"]
            reasons = [k["reason"] for k in cases if k["status"] == "expected-fail" and k.get("reason")]
            out[key] = (css, label, failing, reasons)
    return out




def check(dom_text, files):
    parser = Cells()
    parser.feed(dom_text)
    found = parser.cells
    want = expected_cells(files)
    problems = []
    for key in parser.duplicates:
        problems.append(f"cell {key} appears more than once")
    for key, (css, label, failing, reasons) in want.items():
        cell = found.get(key)
        if cell is None:
            problems.append(f"missing cell {key}: expected {label!r}")
            continue
        if css not in cell["css"]:
            problems.append(f"cell {key}: expected colour class {css!r}, page has {cell['css']}")
        if cell["label"].strip() != label:
            problems.append(f"cell {key}: expected {label!r}, page shows {cell['label'].strip()!r}")
        for case_id in failing:
            if case_id not in cell["text"]:
                problems.append(f"cell {key}: failing case {case_id} is not listed")
        for reason in reasons:
            if reason not in cell["title"]:
                problems.append(f"cell {key}: expected-failure reason {reason!r} is not in its hover text")
    for key in found.keys() - want.keys():
        problems.append(f"unexpected cell {key}")
    if parser.scripts:
        problems.append(f"the page has {parser.scripts} <script> element(s): some text was not escaped")
    return problems, len(want)


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        dom = f.read()
    files = []
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            files.append(json.load(f))
    problems, checked = check(dom, files)
    for p in problems:
        print(f"MISMATCH: {p}")
    if problems:
        print(f"{len(problems)} mismatch(es) among {checked} cells")
        return 1
    print(f"ok: all {checked} cells show what the results files say")
    return 0


if __name__ == "__main__":
    sys.exit(main())
