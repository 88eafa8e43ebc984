"""Where a command's output goes: the CLI edge makes one, the commands write to it, the library never prints."""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Console:
    prog: str  # how the command was started: hat.py, argparse_to_yaml.py, clearml-hat

    def out(self, text: str) -> None:
        """The command's result, on stdout (`--print_argv`'s JSON, `ok`)."""
        print(text, flush=True)

    def note(self, text: str) -> None:
        """What the hat does or found, on stderr, so stdout stays the command's (and the training's) own."""
        print(f"{self.prog}: {text}", file=sys.stderr, flush=True)

    def warn(self, text: str) -> None:
        self.note(f"warning: {text}")

    def error(self, text: str) -> None:
        for line in text.splitlines():
            print(f"{self.prog}: error: {line}", file=sys.stderr, flush=True)
