"""The crash suite's shared homes: built once per session by the real `bakehouse run`."""

from __future__ import annotations

import pytest

from tests.nightly_home import NightlyHomes, nightly_homes


@pytest.fixture(scope="session")
def homes(tmp_path_factory: pytest.TempPathFactory) -> NightlyHomes:
    return nightly_homes(tmp_path_factory.getbasetemp())
