"""The CLI's user-facing error: printed as one line by ``cli.main``, exit status 2."""


class CliError(Exception):
    """A user mistake or unmet precondition (bad argument, missing file, service down)."""
