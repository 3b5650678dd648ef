#!/usr/bin/env python3
"""Man page and shell completion of a Trellis tool, generated from the tool's own --help.

The tools' help (CLI11) is the one place their commands and flags are described; the man pages and
the bash/zsh completion are derived from it at build time, so they cannot drift from the binary.

Usage: help_docs.py TOOL_BINARY {man|bash|zsh} OUTPUT [--version V] [--section 1]
"""
import argparse
import os
import re
import subprocess
import sys

MAX_DEPTH = 3  # trellisctl cluster member-add: two levels below the tool


def help_text(binary, path):
    out = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "NO_COLOR": "1"})
    if out.returncode != 0:
        sys.exit(f"help_docs.py: {' '.join([binary, *path])} --help exited {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def section(text, title):
    """The indented lines under `title:` up to the next blank line or unindented line."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == title + ":":
            inside = True
            continue
        if inside:
            if not line.strip() or not line.startswith(" "):
                break
            lines.append(line)
    return lines


def parse(binary, path=(), depth=0):
    """{'help': text, 'flags': [...], 'subs': {name: (summary, node)}} for the command at `path`."""
    text = help_text(binary, list(path))
    flags = set()
    for line in text.splitlines():  # every option group: "Options:", trellisctl's "Connection:", ...
        if re.match(r"^ {2}-", line):
            spec = re.split(r"\s{2,}", line.strip())[0]  # "-o,--out TEXT REQUIRED"; the description follows
            flags.update(t for t in re.split(r"[ ,]", spec) if re.fullmatch(r"--?[A-Za-z][\w-]*", t))
    flags = sorted(flags)
    subs = {}
    if depth < MAX_DEPTH:
        for line in section(text, "Subcommands"):
            m = re.match(r"\s+(\S+)\s*(.*)", line)
            if m:
                subs[m.group(1)] = (m.group(2).strip(), parse(binary, (*path, m.group(1)), depth + 1))
    return {"help": text, "flags": flags, "subs": subs}


def walk(node, path=()):
    yield path, node
    for name, (_, child) in node["subs"].items():
        yield from walk(child, (*path, name))


def roff(text):
    out = []
    for line in text.rstrip().splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line if line.strip() else "")
    return "\n".join(out)


def man(tool, tree, version):
    first = tree["help"].splitlines()[0]
    summary = first.split(" -- ", 1)[-1].split(": ", 1)[-1]
    parts = [f'.TH {tool.upper()} 1 "" "trellis {version}" "Trellis manual"',
             ".SH NAME", f"{tool} \\- {roff(summary)}",
             ".SH SYNOPSIS", f".B {tool}", "[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR] ...",
             ".SH DESCRIPTION", ".nf", roff(tree["help"]), ".fi"]
    commands = [(p, n) for p, n in walk(tree) if p]
    if commands:
        parts.append(".SH COMMANDS")
        for path, node in commands:
            parts += [".SS " + " ".join((tool, *path)), ".nf", roff(node["help"]), ".fi"]
    parts += [".SH SEE ALSO", "The Trellis documentation in /usr/share/doc/trellis and docs/ of the source tree."]
    return "\n".join(parts) + "\n"


def fn(tool):
    return "_" + re.sub(r"\W", "_", tool)


def bash(tool, tree):
    cases = []
    for path, node in walk(tree):
        words = " ".join([*node["subs"], *node["flags"]])
        cases.append(f'        "{" ".join(path)}") words="{words}" ;;')
    return f"""# bash completion for {tool}: generated from `{tool} --help` by scripts/help_docs.py
{fn(tool)}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} cmdpath="" w i
    # The command path so far: the words that are this level's subcommands, in order.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        [[ $w == -* ]] && continue
        case " $({fn(tool)}_subs "$cmdpath") " in *" $w "*) cmdpath="${{cmdpath:+$cmdpath }}$w" ;; esac
    done
    local words
    case $cmdpath in
{chr(10).join(cases)}
        *) words="" ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    [[ $cur != -* ]] && COMPREPLY+=($(compgen -f -- "$cur"))
    return 0
}}
{fn(tool)}_subs() {{
    case $1 in
{chr(10).join(f'        "{" ".join(p)}") echo "{" ".join(n["subs"])}" ;;' for p, n in walk(tree))}
    esac
}}
complete -o filenames -F {fn(tool)} {tool}
"""


def zsh(tool, tree):
    cases = []
    for path, node in walk(tree):
        subs = " ".join(f"'{name}:{summary.replace(chr(39), '')}'" for name, (summary, _) in node["subs"].items())
        flags = " ".join(node["flags"])
        cases.append(f'    "{" ".join(path)}") subs=({subs}); flags=({flags}) ;;')
    return f"""#compdef {tool}
# zsh completion for {tool}: generated from `{tool} --help` by scripts/help_docs.py
local -a subs flags
# (not $path: zsh ties that name to $PATH)
local cmdpath="" w
for w in ${{words[2,CURRENT-1]}}; do
    [[ $w == -* ]] && continue
    case "$cmdpath" in
{chr(10).join(cases)}
    esac
    (( ${{subs[(I)$w:*]}} )) && cmdpath="${{cmdpath:+$cmdpath }}$w"
done
subs=() flags=()
case "$cmdpath" in
{chr(10).join(cases)}
esac
if [[ $PREFIX == -* ]]; then
    compadd -a flags
elif (( ${{#subs}} )); then
    _describe 'command' subs
else
    _files
fi
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("kind", choices=["man", "bash", "zsh"])
    ap.add_argument("output")
    ap.add_argument("--version", default="0")
    ap.add_argument("--name", help="the tool's name (default: the binary's)")
    a = ap.parse_args()
    tool = a.name or os.path.basename(a.binary)
    tree = parse(a.binary)
    text = {"man": lambda: man(tool, tree, a.version), "bash": lambda: bash(tool, tree),
            "zsh": lambda: zsh(tool, tree)}[a.kind]()
    tmp = a.output + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
