"""The git checks before a remote run, on scratch repositories (no ClearML involved)."""
import subprocess
from pathlib import Path

from clearml_hat.clearml.preflight import git_problems


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def pushed_repo(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text("print(1)\n")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-qm", "one")
    git(tmp_path, "init", "-q", "--bare", "remote.git")
    git(work, "remote", "add", "origin", str(tmp_path / "remote.git"))
    git(work, "push", "-q", "origin", "main")
    return work


def test_pushed_and_clean_repository_passes(tmp_path):
    work = pushed_repo(tmp_path)
    assert git_problems(work, [work / "train.py"]) == ([], [])


def test_repository_without_commits(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin", "https://example.invalid/x.git")
    problems, _ = git_problems(tmp_path, [])
    assert problems == ["the git repository has no commit yet: commit your code and push it"]


def test_file_outside_the_repository_is_named_with_its_full_path(tmp_path):
    work = pushed_repo(tmp_path)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    problems, _ = git_problems(work, [work / "train.py", outside])
    assert len(problems) == 1 and str(outside) in problems[0] and "train.py" not in problems[0]


def test_commit_made_after_the_push_is_not_on_the_remote(tmp_path):
    work = pushed_repo(tmp_path)
    (work / "train.py").write_text("print(2)\n")
    git(work, "commit", "-qam", "two")
    problems, warnings = git_problems(work, [work / "train.py"])
    assert len(problems) == 1 and "is not on any remote branch" in problems[0]
    assert warnings == []


def test_staged_and_unstaged_changes_are_both_listed(tmp_path):
    work = pushed_repo(tmp_path)
    (work / "other.py").write_text("y = 1\n")
    git(work, "add", "other.py")
    git(work, "commit", "-qm", "other")
    git(work, "push", "-q", "origin", "main")
    (work / "train.py").write_text("print(3)\n")
    (work / "other.py").write_text("y = 2\n")
    git(work, "add", "other.py")
    _, warnings = git_problems(work, [work / "train.py"])
    assert len(warnings) == 1 and warnings[0].endswith(": other.py, train.py")
