"""The configuration reference of docs/configuration.md, generated from ``tap4book-mock serve --help``: one row per
flag, with its variable, default and help text exactly as the help gives them (cli.py builds the flags from
mockserver/config.py's settings). ``python tests/configuration_table.py`` rewrites the table after a setting
changes; tests/test_docs.py fails while it is stale.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
BEGIN = "<!-- the table below is generated from serve --help by tests/configuration_table.py: do not edit it -->"
END = "<!-- end of the generated table -->"
HELP = re.compile(r"^(?P<what>.*)\s\[env (?P<variable>\S+); default: (?P<default>.*)\]$", re.S)


def serve_parser() -> argparse.ArgumentParser:
    from mockserver.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["serve"]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Values in code type; what the help says in words ("none", "real time", a sentence) stays prose."""
    return f"`{text}`" if text and " " not in text and text != "none" else _cell(text)


def render() -> str:
    """The table, one row per ``serve`` flag in the help's order."""
    rows = ["| flag | variable | default | what |", "|---|---|---|---|"]
    for action in serve_parser()._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        said = HELP.match(str(action.help).replace("%%", "%"))
        if said is None:
            raise ValueError(f"{action.option_strings[0]}'s help does not end with [env NAME; default: VALUE]")
        flag = ", ".join(action.option_strings)
        if action.nargs != 0:
            choices = "{" + ",".join(action.choices) + "}" if action.choices else None
            flag += f" {action.metavar or choices or action.dest.upper()}"
        rows.append(
            f"| `{_cell(flag)}` | `{said['variable']}` | {_code(said['default'].strip())} | {_cell(said['what'])} |"
        )
    return "\n".join(rows) + "\n"


def shipped(page: str) -> str:
    """The generated part of the page, between its two markers."""
    if BEGIN not in page or END not in page:
        raise ValueError(f"{PAGE.name} lacks the markers around its generated table")
    return page.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main() -> None:
    page = PAGE.read_text(encoding="utf-8")
    before, rest = page.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    PAGE.write_text(f"{before}{BEGIN}\n{render()}{END}{after}", encoding="utf-8")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    sys.exit(main())
