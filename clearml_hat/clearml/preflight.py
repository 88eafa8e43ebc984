"""Checks before a run is enqueued: the agent clones the pushed commit, so what is not pushed never reaches it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List, Optional, Sequence, Tuple


def git_problems(folder: Path, needed_files: Sequence[Path]) -> Tuple[List[str], List[str]]:
    """(problems, warnings) of the git checkout that holds folder, as one-line messages.

    needed_files are the files the agent must find in its checkout (the training script, hat.py, the package).
    """
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return [f"{folder.resolve()} is not in a git repository; the agent clones the code from git: "
                "`git init`, commit, add a remote and push"], []
    root = Path(top)
    if not _git(root, "remote"):
        return ["the git repository has no remote, so the agent cannot clone it: "
                "`git remote add origin <url>` and `git push`"], []
    head = _git(root, "rev-parse", "--short", "HEAD")
    if head is None:
        return ["the git repository has no commit yet: commit your code and push it"], []
    problems = []
    if not _git(root, "branch", "-r", "--contains", "HEAD"):
        problems.append(f"HEAD ({head}) is not on any remote branch, and the agent checks out this commit: "
                        "`git push` it first")
    untracked = _untracked(root, needed_files)
    if untracked:
        problems.append(f"not tracked by git, so the agent will not have them: {', '.join(untracked)}; "
                        "`git add` and commit them, then push")
    changed = _names(_git(root, "diff", "--name-only", "-z", "HEAD"))
    warnings = []
    if changed:
        warnings.append(f"uncommitted changes go to the agent as a diff on top of {head}: {', '.join(changed)}")
    return problems, warnings


def _untracked(root: Path, files: Sequence[Path]) -> List[str]:
    """The files git does not track, by their path in the repository (a file outside it: its full path)."""
    names = [os.path.relpath(Path(f).resolve(), root.resolve()) for f in files]
    inside = [name for name in names if not name.startswith(os.pardir)]
    # -z: names as they are; without it git quotes a name with a space or a non-ASCII letter ("tr\303\244in me.py").
    tracked = set(_names(_git(root, "ls-files", "-z", "--", *inside))) if inside else set()
    return [name if name in inside else str(Path(f).resolve()) for name, f in zip(names, files) if name not in tracked]


def _names(output: Optional[str]) -> List[str]:
    """The file names of a `git ... -z` listing."""
    return [name for name in (output or "").split("\0") if name]


def _git(folder: Path, *args: str) -> Optional[str]:
    """git's output, stripped; None when git fails (not a repository, no commit, no git at all)."""
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None
