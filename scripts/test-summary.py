#!/usr/bin/env python3
"""Prints 'N passed, N failed' from meson's JUnit log: one count per test case
(GoogleTest cases are reported individually), for CI to read."""
import sys
import xml.etree.ElementTree as ET

path = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.junit.xml"
try:
    root = ET.parse(path).getroot()
except (OSError, ET.ParseError) as e:
    print(f"no test log at {path}: {e}", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(0)
passed = failed = skipped = 0
for case in root.iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    elif case.find("skipped") is not None:
        skipped += 1
    else:
        passed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
