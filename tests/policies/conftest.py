"""Fixtures for the policy tests: the shipped agreement and registry, and a fixed clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.config.registry import Registry, default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import Agreement
from hub.policies.examples import EXAMPLE_AGREEMENT, EXAMPLE_NOW


@pytest.fixture(scope="session")
def agreement() -> Agreement:
    """hub/config/agreement.toml, as shipped."""
    return load_agreement(default_agreement_path())


@pytest.fixture(scope="session")
def example_agreement() -> Agreement:
    return EXAMPLE_AGREEMENT


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(default_registry_path())


@pytest.fixture
def now() -> datetime:
    return EXAMPLE_NOW
