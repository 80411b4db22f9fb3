"""Deploy tests run against the real lab (session fixture `lab`); each test leaves devices as it found them."""

from __future__ import annotations

import pytest

from lab_env import restored


@pytest.fixture
def env(lab, tmp_path):
    with restored(lab, tmp_path) as e:
        yield e
