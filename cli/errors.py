"""Re-export of the CLI's user-facing error so command modules need not import ``cli.main``."""

from cli.main import CliError

__all__ = ["CliError"]
