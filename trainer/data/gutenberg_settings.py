"""Where `stylegrpo data download` fetches books from, and how politely it asks."""

from __future__ import annotations

from dataclasses import dataclass

USER_AGENT = "stylegrpo/0.1 (Project Gutenberg book downloader; python-httpx)"


@dataclass(frozen=True)
class GutenbergSettings:
    """The mirror and catalog base URLs and the limits every request runs under.

    >>> GutenbergSettings(mirror="http://127.0.0.1:8080/").mirror
    'http://127.0.0.1:8080'
    >>> GutenbergSettings(catalog="gutendex.com")
    Traceback (most recent call last):
    ...
    ValueError: catalog must be an http(s) URL such as https://gutendex.com, got 'gutendex.com'
    """

    mirror: str = "https://www.gutenberg.org"
    catalog: str = "https://gutendex.com"
    # Project Gutenberg asks automated downloads to pause between requests.
    delay_s: float = 2.0
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        for name in ("mirror", "catalog"):
            url = getattr(self, name)
            if not url.startswith(("http://", "https://")):
                example = getattr(GutenbergSettings, name)
                raise ValueError(f"{name} must be an http(s) URL such as {example}, got {url!r}")
            object.__setattr__(self, name, url.rstrip("/"))
        if self.delay_s < 0 or self.timeout_s <= 0:
            raise ValueError(
                f"need delay_s >= 0 and timeout_s > 0, got {self.delay_s} and {self.timeout_s}"
            )
        if self.max_retries < 0 or self.backoff_base_s < 0 or self.backoff_max_s < 0:
            raise ValueError(
                "max_retries, backoff_base_s and backoff_max_s must be >= 0, got "
                f"{self.max_retries}, {self.backoff_base_s} and {self.backoff_max_s}"
            )
