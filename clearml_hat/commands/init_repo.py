"""The init command: put the hat into a user's repo, so that `python hat.py` runs there and on clearml-agent.

The agent clones the repo and runs `python hat.py`; it has no clearml-hat installed, so the repo gets what that
needs: a hat.py that runs the user's script, a copy of this package (clearml_hat/, its version in __init__.py,
so copies can be told apart and upgraded by running init again) and config.yaml from the script's parser. A file
that is there already and differs is kept as <name>.bak first: nothing the user changed is lost.
"""
from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import List

from clearml_hat import __version__
from clearml_hat.commands.yaml_command import config_text, write_keeping_backup
from clearml_hat.console import Console
from clearml_hat.errors import HatError

PACKAGE = Path(__file__).resolve().parents[1]
HAT_PY = '''"""Run {script} under ClearML with config.yaml as the one source of truth (clearml-hat {version}).

    python hat.py                         # train here, tracked (offline without a ClearML server)
    python hat.py epochs=5 --print_argv   # the argv the training would get
    python hat.py --remote --queue gpu    # enqueue on a clearml-agent queue
"""
import sys

from clearml_hat.cli import script_main

if __name__ == "__main__":
    sys.exit(script_main("run", "hat.py", script={script!r}))
'''


def init_repo(folder: str, script: str, output: str, force: bool, console: Console) -> List[Path]:
    """Write hat.py, clearml_hat/ and the YAML into folder; returns the files written."""
    repo = Path(folder).resolve()
    if not repo.is_dir():
        raise HatError(f"{folder}: no such folder; give the repo to prepare")
    if not force and not _is_git_checkout(repo):
        raise HatError(f"{folder} is not a git checkout, and clearml-agent clones the code from git: `git init` "
                       "there (or clone your repo), or give --force")
    if not (repo / script).is_file():
        raise HatError(f"{script}: no such file in {repo}; give --script relative to the repo")
    # The parser first: a script that fails to give one stops init before any file is written.
    config, removed = config_text(str(repo / script), script, output, edited=repo / output)
    kept_values = (repo / output).is_file()
    written = [_write(repo / "hat.py", HAT_PY.format(script=script, version=__version__), console)]
    if repo / "clearml_hat" != PACKAGE:  # the hat's own repo has it already
        for source in sorted(PACKAGE.rglob("*.py")):
            target = repo / "clearml_hat" / source.relative_to(PACKAGE)
            written.append(_write(target, source.read_text(encoding="utf-8"), console))
    written.append(_write(repo / output, config, console))
    if kept_values:
        console.note(f"{output}: kept the values it had; an option new in {script} gets its default")
    for key in removed:
        console.note(f"{output}: {key!r} is no longer an option of {script}: left out (the previous file is kept as "
                     f"{output}.bak)")
    _say_next(repo, script, output, console)
    return written


def _write(path: Path, text: str, console: Console) -> Path:
    write_keeping_backup(path, text, console)
    return path


def _is_git_checkout(folder: Path) -> bool:
    try:
        done = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=folder, capture_output=True,
                              text=True, timeout=30)
    except FileNotFoundError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def _say_next(repo: Path, script: str, output: str, console: Console) -> None:
    console.out(f"clearml-hat {__version__} is in {repo}: hat.py, clearml_hat/ and {output} for {script}. Next:")
    quoted_script, quoted_output = shlex.quote(script), shlex.quote(output)  # a path with a space stays one word
    for line in (f"python -m clearml_hat yaml --script {quoted_script} --check {quoted_output}   # after editing "
                 f"{output}",
                 f"python hat.py --print_argv     # the argv {script} gets from {output}",
                 "python hat.py                  # a tracked run here (offline without a ClearML server)",
                 f"git add hat.py clearml_hat {quoted_output} && git commit -m 'Train under ClearML' && git push",
                 "python hat.py --remote         # then on clearml-agent (--queue NAME: another queue than default)"):
        console.out(f"    {line}")
