"""Plot prompts in the original's layout, for runs without a prompt dataset of their own."""

from __future__ import annotations

from typing import Any

PLOTS = (
    "a boy who trades his chores for a map to buried treasure",
    "a steamboat race that two captains both swear they won",
    "a stranger who comes to a river town selling a cure for everything",
    "a frog-jumping contest that the whole county bets on",
    "a raft journey that ends somewhere nobody expected",
    "a town meeting called to decide who owns a stray mule",
    "a schoolteacher's first winter in a mining camp",
    "a pilot's apprentice learning every bend of the river",
    "a con man who is outwitted by a widow",
    "an argument between two brothers over an inheritance of one old clock",
    "a circus that arrives the day of a funeral",
    "a newspaper editor in a town where nothing ever happens",
)
TEMPLATE = (
    "Write a story about {plot} in the style of {author}, about {words} words. End it with a "
    "line that says THE END.\n\nStart your story:"
)


def plot_prompts(author: str, words: int) -> list[dict[str, Any]]:
    """One conversational prompt per plot, as TRL's GRPOTrainer takes them.

    >>> plot_prompts("Mark Twain", 1500)[0]["prompt"][0]["content"][:40]
    'Write a story about a boy who trades his'
    """
    return [
        {
            "prompt": [
                {"role": "user", "content": TEMPLATE.format(plot=p, author=author, words=words)}
            ]
        }
        for p in PLOTS
    ]
