"""Publish a built dataset folder to the Hugging Face Hub (`--push-to-hub REPO` on builders)."""

from __future__ import annotations

import os
from pathlib import Path

TOKEN_VARIABLE = "HF_TOKEN"


class HubPushError(RuntimeError):
    """The dataset could not be pushed: no token, the Hub unreachable, or the upload refused."""


def hub_token() -> str:
    """The token from HF_TOKEN; checked before a build so a long build never ends in this error."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise HubPushError(
            f"--push-to-hub needs a Hugging Face token with write access: set {TOKEN_VARIABLE}"
        )
    return token


def push_dataset(folder: Path, repo_id: str, token: str, *, private: bool = True) -> str:
    """Upload the `load_from_disk` folder as dataset `repo_id`; return its Hub address."""
    from datasets import load_from_disk

    dataset = load_from_disk(str(folder))
    try:
        dataset.push_to_hub(repo_id, token=token, private=private)
    except Exception as exc:  # the Hub client raises many types: connection, auth, offline mode
        raise HubPushError(
            f"pushing {folder} to the Hub as {repo_id} failed ({type(exc).__name__}: {exc}); "
            f"the dataset is intact on disk, push it again with --push-to-hub once that is fixed"
        ) from exc
    return f"https://huggingface.co/datasets/{repo_id}"
