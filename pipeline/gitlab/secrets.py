"""Secrets come only from the environment, and never leave netchange in a message.

Every text netchange prints on behalf of git, the GitLab API or a subprocess goes through `mask()`, which
replaces the value of every secret-looking environment variable and any password in a URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

MASK = "[MASKED]"
TOKEN_ENV = "NETCHANGE_GITLAB_TOKEN"
# Names whose values are secret even if they do not look like it.
_SECRET_NAMES = {TOKEN_ENV, "CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD", "GITLAB_TOKEN",
                 "NETCHANGE_SSH_PASSWORD"}
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|PRIVATE_KEY", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@\s:]+):(?P<pw>[^/@\s]+)@", re.IGNORECASE)
_MIN_LEN = 6  # shorter values would mask ordinary words


def gitlab_token() -> str | None:
    """The API/push token, from the CI variable only (never from an option: options end up in logs)."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    values = {v for k, v in env.items() if (k in _SECRET_NAMES or _SECRET_NAME.search(k)) and len(v) >= _MIN_LEN}
    return sorted(values, key=len, reverse=True)  # longest first: a secret containing another is masked whole


def mask(text: str, env: dict[str, str] | None = None) -> str:
    if not text:
        return text
    for value in secret_values(env):
        text = text.replace(value, MASK)
    return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
