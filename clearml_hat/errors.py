"""The error types the hat shows to users: a single line that names the problem and the fix."""


class HatError(Exception):
    """A user-facing problem; the commands print its message on one line and exit with `exit_code`."""

    exit_code = 2


class Interrupted(HatError):
    """Ctrl-C stopped a command after it cleaned up; the message says what was undone. Exit code 130, as a shell
    reports for a process SIGINT ended."""

    exit_code = 130
