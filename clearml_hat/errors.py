"""The one error type the hat shows to users: a single line that names the problem and the fix."""


class HatError(Exception):
    """A user-facing problem; the commands print its message on one line and exit with code 2."""
