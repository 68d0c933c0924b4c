"""Container healthcheck: exit 0 when a URL answers 200, else 1 with the reason on stderr.

    python /app/docker/healthcheck.py http://127.0.0.1:8001/ready --api-key-env STYLE_API_KEY
    python /app/docker/healthcheck.py http://127.0.0.1:8000/health

Standard library only, so it runs in every image (the images have no curl). With an API key
set, a reward service answers `/ready` only to `Authorization: Bearer <key>`; the key is read
from the named environment variable at run time, so it never appears in compose.yaml.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def probe(url: str, api_key: str | None, timeout_s: float) -> str | None:
    """None when `url` answers 200, else why it is not healthy."""
    request = urllib.request.Request(url)
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # 503 while a model loads, 401 without the key
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        return f"{url}: {exc}"
    return None if status == 200 else f"{url}: HTTP {status}"


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, probe once, and return the exit status."""
    parser = argparse.ArgumentParser(description="Exit 0 when URL answers 200, else 1.")
    parser.add_argument("url", help="URL that answers 200 when the service is healthy.")
    parser.add_argument(
        "--api-key-env", help="Environment variable holding the service's API key, if any."
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="Seconds to wait.")
    args = parser.parse_args(argv)
    api_key = os.environ.get(args.api_key_env) if args.api_key_env else None
    problem = probe(args.url, api_key, args.timeout)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
