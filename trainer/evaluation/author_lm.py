"""The author language-model likelihood ratio: a style measure of another family than Delta.

Delta (`trainer/evaluation/stylometry.py`) counts function words; the style reward reads sentence
embeddings and character/word n-grams. This measure asks a language model instead: how much
likelier is the text under the policy's base model fine-tuned on the author's books than under
the base model as it is?

    author_lm(text) = mean over the text's tokens of [log p_author(token) - log p_base(token)]

in nats per token. The base is SmolLM2-135M-Instruct read as a plain LM (no chat template), so
what the untrained policy writes scores near or below 0 and the value rises only as a text
moves toward the author's books. It never enters training, and shares no features with the
reward: no encoder, no n-gram vocabulary, only next-token probabilities.

That ratio also rises for a text that leaves the base model's chat prose for any author's book
prose (on the learning recipe's held-out stories, the LMs of Conan Doyle and Wodehouse rose
nearly as much as Twain's: `scripts/rival_author_lm.py`). So the evaluation reports a contrast
beside it, the author's LM over a rivals' LM fine-tuned the same way on every other author's
books (`AuthorLmMeasures`):

    author_vs_rivals(text) = mean over the text's tokens of [log p_author - log p_rivals]

Choices, and why:
- LoRA on every attention and MLP projection, kept as an adapter rather than merged: one model
  in memory scores both sides (the base is the same model with the adapter switched off), the
  cache holds a few MB instead of a second 0.5 GB model, and a low-rank update of a few hundred
  steps learns the author's habits more than it memorises his plots.
- bfloat16 base weights (the LoRA weights stay float32): on this project's CPUs (AMX) a training
  step of 8 x 256 tokens took 2 s in bfloat16 against 50-80 s in float32; both sides of the
  ratio go through the same rounding, which largely cancels in the difference.
- Books and scored texts are both rewritten to the style service's house typography
  (`shared.typography`), so Gutenberg's `--` and straight quotes earn nothing.
- Each training block starts at a paragraph start after `<|endoftext|>`, as a scored text is
  read: from a document start, every token predicted.

`build` caches the adapter under `CACHE/author-lm/AUTHOR-KEY/` (`build_rivals` under
`rivals-of-AUTHOR-KEY/`), KEY a hash of the books' text, the author, the held-out titles and the
settings; a folder is written whole or not at all.
Figures on held-out books: `scripts/measure_author_lm.py`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.book_folder import Book, corpus_fingerprint, find_books
from shared.files import replaced_folder
from shared.typography import TYPOGRAPHY_VERSION, normalised_text
from trainer.common.policy_model import EMBEDDED_POLICY, resolve_policy_model
from trainer.data.cleaning import paragraphs

DEFAULT_CACHE = Path.home() / ".cache" / "stylegrpo"
MARKER = "author-lm.json"
DOCUMENT_START = "<|endoftext|>"
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
MAX_TOKENS = 2048  # a longer text is measured on its first MAX_TOKENS tokens
BATCH_TOKENS = 4096  # padded tokens per scoring batch: bounds the float32 logits' memory


@dataclass(frozen=True)
class AuthorLmSettings:
    """How the author LM is fine-tuned; every field is part of the cache key."""

    base_model: str = EMBEDDED_POLICY
    steps: int = 100
    batch_size: int = 8
    block_tokens: int = 256
    learning_rate: float = 1e-3
    lora_rank: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        lowest = {"steps": 1, "batch_size": 1, "block_tokens": 2, "lora_rank": 1}
        problems = [
            f"{name} must be >= {low}, got {getattr(self, name)}"
            for name, low in lowest.items()
            if getattr(self, name) < low
        ]
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be > 0, got {self.learning_rate}")
        if problems:
            raise ValueError("; ".join(problems))


class AuthorLanguageModel:
    """The base model with an adapter fine-tuned on one author's books; `measure` scores texts."""

    def __init__(self, model: Any, tokenizer: Any, folder: Path, info: dict[str, Any]) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.folder = folder
        self.info = info  # what it was built from and how (the folder's MARKER file)
        self._start = _document_start(tokenizer)

    @classmethod
    def build(
        cls,
        books_dir: Path,
        author: str,
        *,
        held_out: Sequence[str] = (),
        settings: AuthorLmSettings | None = None,
        cache_dir: Path = DEFAULT_CACHE,
    ) -> AuthorLanguageModel:
        """Fine-tune on the author's books but the `held_out` titles, or load the cached one."""
        books = _training_books(books_dir, author, held_out, rivals=False)
        return cls._build(books, author, settings or AuthorLmSettings(), cache_dir)

    @classmethod
    def build_rivals(
        cls,
        books_dir: Path,
        author: str,
        *,
        held_out: Sequence[str] = (),
        settings: AuthorLmSettings | None = None,
        cache_dir: Path = DEFAULT_CACHE,
    ) -> AuthorLanguageModel:
        """The same on every *other* author's books, pooled, but the `held_out` titles: the
        rivals' LM, for `AuthorLmMeasures`' contrast."""
        books = _training_books(books_dir, author, held_out, rivals=True)
        return cls._build(books, rivals_label(author), settings or AuthorLmSettings(), cache_dir)

    @classmethod
    def _build(
        cls, books: list[Book], label: str, settings: AuthorLmSettings, cache_dir: Path
    ) -> AuthorLanguageModel:
        folder = cache_dir / "author-lm" / f"{label}-{_cache_key(books, label, settings)}"
        if not (folder / MARKER).is_file():
            _train(books, label, settings, folder, cache_dir)
        return cls.load(folder, cache_dir=cache_dir)

    @classmethod
    def load(cls, folder: Path, *, cache_dir: Path = DEFAULT_CACHE) -> AuthorLanguageModel:
        """The author LM saved by `build` in `folder`."""
        from peft import PeftModel

        if not (folder / MARKER).is_file():
            raise FileNotFoundError(f"{folder} holds no author LM ({MARKER}): build one first")
        info = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        tokenizer, base = _load_base(info["settings"]["base_model"], cache_dir)
        model = PeftModel.from_pretrained(base, str(folder))
        model.eval()
        return cls(model, tokenizer, folder, info)

    def measure(self, texts: Sequence[str]) -> list[float]:
        """Each text's mean log-likelihood ratio, author over base, in nats per token; NaN for a
        text without tokens."""
        import torch
        from tqdm import tqdm

        encoded = [self._encode(text) for text in texts]
        ratios = [math.nan] * len(texts)
        batches = _batches([i for i in range(len(texts)) if encoded[i]], encoded)
        with torch.no_grad():
            for batch in tqdm(batches, desc="author LM", unit="batch", disable=len(batches) < 4):
                inputs, mask = self._padded([encoded[i] for i in batch])
                author = self._token_log_probs(inputs, mask)
                with self.model.disable_adapter():
                    base = self._token_log_probs(inputs, mask)
                difference = ((author - base) * mask[:, 1:]).sum(dim=1) / mask[:, 1:].sum(dim=1)
                for i, value in zip(batch, difference.tolist(), strict=True):
                    ratios[i] = value
        return ratios

    def _encode(self, text: str) -> list[int]:
        ids: list[int] = self.tokenizer(normalised_text(text).strip(), add_special_tokens=False)[
            "input_ids"
        ]
        return ids[:MAX_TOKENS]

    def _padded(self, sequences: list[list[int]]) -> tuple[Any, Any]:
        """Each sequence after the document start, right-padded; and the attention mask."""
        import torch

        width = 1 + max(len(s) for s in sequences)
        inputs = torch.full((len(sequences), width), self._start, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            inputs[row, 1 : 1 + len(sequence)] = torch.tensor(sequence)
            mask[row, : 1 + len(sequence)] = 1
        device = self.model.device
        return inputs.to(device), mask.to(device)

    def _token_log_probs(self, inputs: Any, mask: Any) -> Any:
        """log p(token | the tokens before it) of every token after the first, float32."""
        logits = self.model(input_ids=inputs, attention_mask=mask).logits[:, :-1].float()
        targets = inputs[:, 1:].unsqueeze(-1)
        picked = logits.gather(-1, targets).squeeze(-1)
        return (picked - logits.logsumexp(dim=-1)).cpu()


@dataclass
class AuthorLmMeasures:
    """The evaluation's language-model measures of a text, in nats per token:

    - `author_lm`: log p_author - log p_base. It rises as a text leaves the base model's chat
      prose for book prose of *any* author, as much as for the author's own;
    - `author_vs_rivals` (with `rivals`): log p_author - log p_rivals, the author's LM over one
      fine-tuned the same way on every other author's books: above 0 where the text is likelier
      the author's than the other authors', so it rises only for what tells them apart.
    """

    author: AuthorLanguageModel
    rivals: AuthorLanguageModel | None = None

    @classmethod
    def build(
        cls,
        books_dir: Path,
        author: str,
        *,
        settings: AuthorLmSettings | None = None,
        cache_dir: Path = DEFAULT_CACHE,
    ) -> AuthorLmMeasures:
        """Both LMs on the whole books folder (the rivals' when it holds another author's)."""
        target = AuthorLanguageModel.build(
            books_dir, author, settings=settings, cache_dir=cache_dir
        )
        if not any(book.author != author for book in find_books(books_dir)):
            print(f"no other author's books in {books_dir}: no author_vs_rivals", flush=True)
            return cls(target)
        rivals = AuthorLanguageModel.build_rivals(
            books_dir, author, settings=settings, cache_dir=cache_dir
        )
        return cls(target, rivals)

    @property
    def names(self) -> list[str]:
        """The measures `measure` gives, in order."""
        return ["author_lm", *(["author_vs_rivals"] if self.rivals is not None else [])]

    def measure(self, texts: Sequence[str]) -> dict[str, list[float]]:
        """Each measure's value for every text (NaN for a text without tokens)."""
        own = self.author.measure(texts)
        if self.rivals is None:
            return {"author_lm": own}
        rivals = self.rivals.measure(texts)  # each ratio is over the same base: it cancels
        return {
            "author_lm": own,
            "author_vs_rivals": [a - r for a, r in zip(own, rivals, strict=True)],
        }


def rivals_label(author: str) -> str:
    """What the rivals' LM of `author` is called (its cache folder and `info["author"]`)."""
    return f"rivals-of-{author}"


def _training_books(
    books_dir: Path, author: str, held_out: Sequence[str], *, rivals: bool
) -> list[Book]:
    """The author's books, or with `rivals` every other author's, but the `held_out` titles."""
    own = [book for book in find_books(books_dir) if (book.author == author) != rivals]
    whose = f"the books of authors other than {author!r}" if rivals else f"{author!r}'s books"
    unknown = sorted(set(held_out) - {book.title for book in own})
    if unknown:
        raise ValueError(f"held-out titles not among {whose} in {books_dir}: {unknown}")
    books = [book for book in own if book.title not in held_out]
    if not books:
        wanted = (
            f"AUTHOR--TITLE.txt books of an author other than {author}"
            if rivals
            else f"{author}--TITLE.txt books"
        )
        raise FileNotFoundError(
            f"no {wanted} in {books_dir} to fine-tune on (held out: {list(held_out)})"
        )
    return books


def _cache_key(books: list[Book], author: str, settings: AuthorLmSettings) -> str:
    """A hash of what the adapter is learnt from and how."""
    identity = {
        "author": author,
        "books": corpus_fingerprint(books),
        "settings": asdict(settings),
        "typography": TYPOGRAPHY_VERSION,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _load_base(model: str, cache_dir: Path) -> tuple[Any, Any]:
    """The base model in bfloat16, on the GPU when there is one, and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_policy_model(model, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(source)
    base: Any = AutoModelForCausalLM.from_pretrained(source, dtype=torch.bfloat16)
    return tokenizer, base.to("cuda" if torch.cuda.is_available() else "cpu")


def _document_start(tokenizer: Any) -> int:
    if DOCUMENT_START not in tokenizer.get_vocab():
        raise ValueError(f"the tokenizer has no {DOCUMENT_START} token to start a document with")
    return int(tokenizer.convert_tokens_to_ids(DOCUMENT_START))


def _token_stream(books: list[Book], tokenizer: Any) -> tuple[list[int], list[int]]:
    """All books' paragraphs as one token stream, a document start before each book; and the
    offset of every paragraph start."""
    start = _document_start(tokenizer)
    stream: list[int] = []
    starts: list[int] = []
    for book in books:
        stream.append(start)
        texts = [normalised_text(p) + "\n\n" for p in paragraphs(book.read_text())]
        for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
            starts.append(len(stream))
            stream += ids
    return stream, starts


def _train(
    books: list[Book], author: str, settings: AuthorLmSettings, folder: Path, cache_dir: Path
) -> None:
    """Fine-tune a LoRA adapter on the books' text and save it, with what it was built from."""
    import numpy as np
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm import tqdm

    torch.manual_seed(settings.seed)
    tokenizer, base = _load_base(settings.base_model, cache_dir)
    stream, starts = _token_stream(books, tokenizer)
    span = settings.block_tokens - 1  # the document start takes the block's first place
    usable = [s for s in starts if s + span <= len(stream)]
    if not usable:
        raise ValueError(
            f"{author}'s books hold fewer than {settings.block_tokens} tokens after a paragraph "
            "start: add books or lower block_tokens"
        )
    lora = LoraConfig(
        r=settings.lora_rank,
        lora_alpha=2 * settings.lora_rank,
        lora_dropout=0.0,
        target_modules=list(LORA_TARGETS),
        task_type="CAUSAL_LM",
    )
    model: Any = get_peft_model(base, lora)
    trainable = [p for p in model.parameters() if p.requires_grad]
    for parameter in trainable:  # bfloat16 updates of 1e-3-sized steps would round away
        parameter.data = parameter.data.float()
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.0)
    warmup = max(1, settings.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min(
            (step + 1) / warmup, (settings.steps - step) / (settings.steps - warmup + 1)
        ),
    )
    rng = np.random.default_rng(settings.seed)
    tokens = torch.tensor(stream)
    first = torch.tensor([_document_start(tokenizer)])
    model.train()
    began = time.monotonic()
    losses: list[float] = []
    with tqdm(range(settings.steps), desc=f"author LM ({author})", unit="step") as bar:
        for _ in bar:
            chosen = rng.choice(usable, size=settings.batch_size)
            batch = torch.stack([torch.cat([first, tokens[s : s + span]]) for s in chosen])
            batch = batch.to(model.device)
            loss = model(input_ids=batch, labels=batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    info = {
        "author": author,
        "books": [book.title for book in books],
        "settings": asdict(settings),
        "training_tokens": len(stream),
        "first_loss": losses[0],
        "last_loss": float(np.mean(losses[-10:])),
        "seconds": round(time.monotonic() - began, 1),
        "device": str(model.device),
    }
    with replaced_folder(folder) as staging:
        model.save_pretrained(str(staging))
        (staging / MARKER).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def _batches(indices: list[int], encoded: list[list[int]]) -> list[list[int]]:
    """The indices shortest first, grouped so that no batch pads past `BATCH_TOKENS` tokens.

    >>> _batches([0, 1, 2], [[1] * 3000, [1] * 10, [1] * 1000])
    [[1, 2], [0]]
    """
    batches: list[list[int]] = []
    for i in sorted(indices, key=lambda i: len(encoded[i])):
        if batches and (len(batches[-1]) + 1) * (1 + len(encoded[i])) <= BATCH_TOKENS:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
