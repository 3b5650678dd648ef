#!/usr/bin/env python3
"""Function size and nesting of libtrellis: no function longer than --max-lines or nested deeper
than --max-depth (control blocks and lambdas inside the body; braced initialisers do not count).

Functions listed in the allowlist (one "path function" per line, '#' comments) are reported but
do not fail: they exceeded the limits when the check arrived and are to be split. A function not
listed that exceeds a limit fails the check; a listed one that no longer does is reported as stale.

Usage: function_size.py SOURCE_ROOT [--allowlist FILE] [--max-lines 80] [--max-depth 4] [--report]
A C++ parser would be exact; this one strips comments and literals and matches braces, which is
enough for code formatted by the repo's .clang-format."""
import argparse
import pathlib
import re
import sys

CONTROL_WORDS = ("else", "do", "try", "mutable", "noexcept")
SCOPE_RE = re.compile(r"^(?:template\s*<.*>\s*)?(?:inline\s+)?(?:namespace\b|extern\s+\"C\"|(?:class|struct|union)\b)", re.S)
NAME_RE = re.compile(r"(~?[A-Za-z_][\w:]*(?:<[^()]*>)?|operator\s*[^\s(]+)\s*\(")


def strip(text):
    """Comments, string and char literals (raw strings too) blanked, newlines kept."""
    out, i, n = [], 0, len(text)
    blank = lambda s: re.sub(r"[^\n]", " ", s)
    while i < n:
        c = text[i]
        m = re.match(r'R"([^(\s]*)\(', text[i:i + 20]) if c == "R" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) else None
        if m:
            end = text.find(")" + m.group(1) + '"', i)
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append(blank(text[i:end])); i = end
        elif text.startswith("//", i):
            end = text.find("\n", i); end = n if end < 0 else end
            out.append(blank(text[i:end])); i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i); end = n if end < 0 else end + 2
            out.append(blank(text[i:end])); i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                out.append(c); i += 1; continue
            out.append(c + blank(text[i + 1:j]) + c); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def header_before(code, pos):
    """The text between the previous ';', '{' or '}' and the brace at `pos`, without preprocessor lines."""
    start = max(code.rfind(ch, 0, pos) for ch in ";{}") + 1
    lines = [l for l in code[start:pos].split("\n") if not l.lstrip().startswith("#")]
    return " ".join(lines).strip()


def is_control(header):
    h = header.rstrip()
    if not h:
        return False
    if h.endswith(")") or h.endswith("]") or h.endswith(":"):
        return True
    return any(re.search(r"\b" + w + r"$", h) for w in CONTROL_WORDS) or re.search(r"->\s*[\w:<>]+$", h) is not None


def functions(path):
    code = strip(path.read_text(errors="replace"))
    stack = []  # (kind, start_pos, name, depth)
    for m in re.finditer(r"[{}]", code):
        pos = m.start()
        if m.group() == "{":
            header = header_before(code, pos)
            outer = stack[-1] if stack else None
            if outer is None or outer[0] == "scope":
                if SCOPE_RE.match(header) and "(" not in header.split("{")[0].split("=")[0]:
                    stack.append(("scope", pos, None, 0))
                    continue
                name = NAME_RE.search(header)
                signature = re.sub(r"(\s+(const|override|final|noexcept))+$", "", header)
                if name and is_control(signature) and "=" not in header[: name.start()]:
                    stack.append(("function", pos, name.group(1), 0))
                    continue
                stack.append(("data", pos, None, 0))
                continue
            depth = outer[3] + (1 if is_control(header) and outer[0] != "data" else 0)
            stack.append(("inner", pos, None, depth))
            func = next((f for f in reversed(stack) if f[0] == "function"), None)
            if func is not None:
                depths[id(func)] = max(depths.get(id(func), 0), depth)
        else:
            if not stack:
                continue
            kind, start, name, _ = top = stack.pop()
            if kind == "function":
                first = code.count("\n", 0, start) + 1
                last = code.count("\n", 0, pos) + 1
                yield name, first, last - first + 1, depths.pop(id(top), 0)


depths = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--allowlist")
    ap.add_argument("--max-lines", type=int, default=80)
    ap.add_argument("--max-depth", type=int, default=4)
    ap.add_argument("--report", action="store_true", help="print every function over the limits and exit 0")
    args = ap.parse_args()
    root = pathlib.Path(args.root)
    allowed = set()
    if args.allowlist:
        for line in pathlib.Path(args.allowlist).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                allowed.add(tuple(line.split()[:2]))
    over, seen, count = [], set(), 0
    for path in sorted((root / "libtrellis").rglob("*.[ch]pp")):
        rel = path.relative_to(root).as_posix()
        for name, line, length, depth in functions(path):
            count += 1
            if length > args.max_lines or depth > args.max_depth:
                over.append((rel, name, line, length, depth))
                seen.add((rel, name))
    new = [o for o in over if (o[0], o[1]) not in allowed]
    for rel, name, line, length, depth in over:
        tag = "NEW " if (rel, name) not in allowed and not args.report else ""
        print(f"{tag}{rel}:{line}: {name}: {length} lines, nesting {depth}")
    for rel, name in sorted(allowed - seen):
        print(f"stale allowlist entry (now within limits, remove it): {rel} {name}")
    print(f"{count} functions in libtrellis; {len(over)} over {args.max_lines} lines or nesting {args.max_depth}"
          f" ({len(new)} not in the allowlist)")
    if new and not args.report:
        print("FAIL: split the functions marked NEW (docs: ARCHITECTURE.md, code shape)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
