"""Real reward services on loopback for the trainer's tests, with faults that can be switched on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def completeness_service(serve_completeness: Callable[[], tuple[str, Any]]) -> tuple[str, Any]:
    """A real completeness service behind a fault switch: (URL, `Faults`)."""
    return serve_completeness()
