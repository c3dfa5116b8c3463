"""The `harvest` command line: data-engineer tools over the table and schemas/."""

from __future__ import annotations


class CliError(Exception):
    """A failure the user can act on: printed to stderr without a traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(CliError):
    """Bad arguments (exit 2, like argparse's own usage errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)
