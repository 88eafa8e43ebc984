"""A user's repo as clearml-agent needs it: committed and pushed to a remote (a local bare repository here)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def commit_and_push(repo: Path, remote_parent: Path, paths: Sequence[str] = (".",), message: str = "training") -> Path:
    """Commit paths in repo and push HEAD to a new bare repository remote_parent/remote.git (origin); returns it."""
    remote = remote_parent / "remote.git"
    subprocess.run(GIT + ["add", *paths], cwd=repo, check=True)
    subprocess.run(GIT + ["commit", "-qm", message], cwd=repo, check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=repo, check=True)
    subprocess.run(["git", "push", "-q", "origin", "HEAD"], cwd=repo, check=True)
    return remote
