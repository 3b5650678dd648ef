#!/usr/bin/env python3
"""Prints 'N passed, N failed' from meson's JUnit logs (one or more): one count per
test case (GoogleTest cases are reported individually), for CI to read. A log that
is missing or unreadable counts as one failure."""
import sys
import xml.etree.ElementTree as ET

paths = sys.argv[1:] or ["build/meson-logs/testlog.junit.xml"]
passed = failed = skipped = 0
for path in paths:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"no test log at {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
