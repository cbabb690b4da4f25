#!/usr/bin/env python3
"""Renders ORK's manual pages from docs/ (one source of truth with the docs):

  ork(8)       docs/ork.8.md, then each command's options from `ork COMMAND --help`
  ork.toml(5)  docs/configuration.md (every key), as it is
  ork-virt(8)  docs/ork-virt.8.md

Each page's markdown is turned into a man page's by rules, not by hand: the document's
title becomes the man page's NAME section, its ## sections the man page's sections,
tables become lists (a man page is read on an 80-column terminal), links their text;
go-md2man then writes the roff.

  scripts/man.py --ork build/ork --out DIR [--version V]
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PAGES = [
    # file, source, man title, section, manual, NAME line, with the commands' --help
    ("ork.8", "docs/ork.8.md", "ORK", "8", "System Administration",
     "ork - the Out of Resource Killer", True),
    ("ork.toml.5", "docs/configuration.md", "ORK.TOML", "5", "File Formats",
     "ork.toml - the configuration file of ork(8)", False),
    ("ork-virt.8", "docs/ork-virt.8.md", "ORK-VIRT", "8", "System Administration",
     "ork-virt - the libvirt helper of ork(8)", False),
]
COMMANDS = ["daemon", "top", "log", "check-config"]

LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    # A '|' inside `code` is not a cell boundary.
    out, cur, code = [], "", False
    for ch in row:
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def table_to_list(rows):
    """| a | b | c | rows (a header, a rule, the data) as a list: '- a: b (c)'."""
    head = cells(rows[0])
    out = []
    for r in rows[2:]:
        c = cells(r)
        first = c[0] if c else ""
        rest = [f"{head[i]}: {v}" if i >= 2 and i < len(head) and head[i] else v
                for i, v in enumerate(c[1:], start=1) if v]
        out.append(f"- {first}: " + "; ".join(rest) if rest else f"- {first}")
    return out + [""]


def convert(text, name_line, drop_intro):
    lines = text.split("\n")
    out = []
    i = 0
    # The document's title (# ...) and, for a page written as one, the note that says so.
    while i < len(lines) and not lines[i].startswith("# "):
        i += 1
    i += 1
    if drop_intro:
        while i < len(lines) and lines[i].strip() == "":
            i += 1
        if i < len(lines) and lines[i].startswith("This page is the source"):
            while i < len(lines) and lines[i].strip() != "":
                i += 1
    out += ["# NAME", "", name_line, ""]
    body = lines[i:]
    if not drop_intro:
        out += ["# DESCRIPTION", ""]
    fence = False
    j = 0
    while j < len(body):
        line = body[j]
        if line.startswith("```"):
            fence = not fence
            out.append(line)
            j += 1
            continue
        if fence:
            out.append(line)
            j += 1
            continue
        if line.startswith("|") and j + 1 < len(body) and re.match(r"^\|[-| :]+\|$", body[j + 1].strip()):
            rows = []
            while j < len(body) and body[j].startswith("|"):
                rows.append(body[j])
                j += 1
            out += table_to_list(rows)
            continue
        m = re.match(r"^(#{2,6}) (.*)$", line)
        if m:
            level = len(m.group(1)) - 1
            title = m.group(2)
            out.append("#" * level + " " + (title.upper() if level == 1 else title))
            j += 1
            continue
        out.append(LINK.sub(r"\1", line))
        j += 1
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ork", required=True, help="the ork binary (for the commands' --help)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--version", default=None)
    a = ap.parse_args()
    version = a.version or subprocess.run([a.ork, "version"], capture_output=True, text=True,
                                          check=True).stdout.split()[-1]
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc) if epoch else \
        datetime.datetime.now(datetime.timezone.utc)
    date = when.strftime("%B %Y")
    os.makedirs(a.out, exist_ok=True)
    for fname, src, title, section, manual, name_line, commands in PAGES:
        with open(os.path.join(ROOT, src), encoding="utf-8") as f:
            text = f.read()
        md = f'% {title} {section} "{date}" "ork {version}" "{manual}"\n\n'
        md += convert(text, name_line, drop_intro=src.endswith(f".{section}.md"))
        if commands:
            # After the description, before the signals, files and the rest.
            cmds = "# COMMANDS\n\n"
            for c in COMMANDS:
                h = subprocess.run([a.ork, c, "--help"], capture_output=True, text=True)
                usage = (h.stdout or h.stderr).rstrip("\n")
                if h.returncode != 0 or not usage:
                    sys.exit(f"man.py: `{a.ork} {c} --help` failed")
                cmds += f"## ork {c}\n\n```\n{usage}\n```\n\n"
            at = md.find("\n# SIGNALS\n")
            md = md + "\n" + cmds if at < 0 else md[:at + 1] + cmds + md[at + 1:]
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as t:
            t.write(md)
            tmp = t.name
        try:
            subprocess.run(["go-md2man", "-in", tmp, "-out", os.path.join(a.out, fname)], check=True)
        finally:
            os.unlink(tmp)
        print(os.path.join(a.out, fname))


if __name__ == "__main__":
    main()
