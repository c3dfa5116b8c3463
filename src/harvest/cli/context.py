"""What every subcommand's `run` gets besides its arguments (its own module, so that the
subcommands do not import `cli.main`, which imports them)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from harvest.cli.target import ClientFactory

type Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


@dataclass(frozen=True, slots=True)
class Context:
    """What commands get from outside their arguments, so tests can replace it."""

    client_factory: ClientFactory
