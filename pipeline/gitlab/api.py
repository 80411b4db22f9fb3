"""The GitLab REST API through python-gitlab, configured from CI variables only.

URL: $NETCHANGE_GITLAB_URL, else GitLab's $CI_SERVER_URL. Project: $NETCHANGE_GITLAB_PROJECT, else
$CI_PROJECT_ID. Token: $NETCHANGE_GITLAB_TOKEN (a project access token with `api` scope; CI_JOB_TOKEN
cannot write notes). Every API error is masked before it reaches a message.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

import gitlab
import requests

from ..errors import NetchangeError
from .secrets import TOKEN_ENV, gitlab_token, mask


class GitLabApiError(NetchangeError):
    """The GitLab API refused or could not be reached (message masked)."""


@contextlib.contextmanager
def api_errors(what: str) -> Iterator[None]:
    try:
        yield
    except gitlab.exceptions.GitlabError as e:
        code = f" (HTTP {e.response_code})" if getattr(e, "response_code", None) else ""
        raise GitLabApiError(f"GitLab API: {what} failed{code}: {mask(str(e.error_message or e))}") from None
    except requests.RequestException as e:
        raise GitLabApiError(f"GitLab API: {what} failed: {mask(type(e).__name__ + ': ' + str(e))}") from None


@dataclass(frozen=True)
class GitLabContext:
    gl: gitlab.Gitlab
    project_id: str

    @property
    def project(self):
        return self.gl.projects.get(self.project_id, lazy=True)


def configured() -> bool:
    return gitlab_token() is not None


def connect(project: str | None = None) -> GitLabContext:
    token = gitlab_token()
    if not token:
        raise GitLabApiError(f"no GitLab token: set the masked CI variable {TOKEN_ENV}")
    url = os.environ.get("NETCHANGE_GITLAB_URL") or os.environ.get("CI_SERVER_URL")
    if not url:
        raise GitLabApiError("no GitLab URL: set NETCHANGE_GITLAB_URL (CI sets CI_SERVER_URL)")
    pid = project or os.environ.get("NETCHANGE_GITLAB_PROJECT") or os.environ.get("CI_PROJECT_ID")
    if not pid:
        raise GitLabApiError("no GitLab project: set NETCHANGE_GITLAB_PROJECT (CI sets CI_PROJECT_ID)")
    # No transient-error retries: their backoff adds minutes to a failing job; GitLab can retry the job.
    gl = gitlab.Gitlab(url, private_token=token, timeout=30, retry_transient_errors=False)
    return GitLabContext(gl, pid)


def current_mr_iid(explicit: int | None = None) -> int | None:
    if explicit:
        return explicit
    iid = os.environ.get("CI_MERGE_REQUEST_IID", "").strip()
    return int(iid) if iid.isdigit() else None
