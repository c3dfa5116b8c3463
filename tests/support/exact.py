"""Signals without their noise (domain.noise), switched off through the settings as an
operator would: for the tests whose subject is an exact published figure (a sum, a count
of distinct users, the figure that reaches a prompt), not the noise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

NOISE_OFF = {"SIGNAL_NOISE_QUANTITY": "0", "SIGNAL_NOISE_COUNT": "0"}


@contextmanager
def exact_figures() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in NOISE_OFF.items():
            patch.setenv(name, value)
        yield
