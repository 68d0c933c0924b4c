"""Plot prompts in the original's layout, for runs without a prompt dataset of their own."""

from __future__ import annotations

import random
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
    "a jumping match between a cat and a bullfrog at the county fair",
    "two boys who run away to become pirates on an island in the river",
    "a tenderfoot who buys a horse that will not be ridden",
    "a preacher whose sermon is interrupted by a runaway pig",
    "a silver mine that everybody in town owns a share of but nobody has seen",
    "a tourist who tries to see all of Europe in a week",
    "a widow who adopts a boy who refuses to wear shoes",
    "a duel that both gentlemen hope to lose",
    "a fence that has to be painted before Saturday",
    "a telegraph operator who reads everyone's messages",
    "a flood that carries a whole house downriver with a family inside",
    "a lawyer who defends a dog accused of stealing a ham",
    "a stagecoach ride across the desert with a talkative stranger",
    "a village that mistakes a travelling actor for a king",
    "a boy who fakes his own death and attends his funeral",
    "a storekeeper who sells the same barrel of flour three times",
    "a ghost that haunts a riverboat saloon",
    "an inventor who builds a machine to do his arithmetic homework",
    "a spelling bee that turns into a brawl",
    "a man who tries to teach a parrot to tell the truth",
    "a census taker in a town that does not want to be counted",
    "a fishing trip on which nobody catches anything but trouble",
    "a cave where two children get lost during a picnic",
    "a rich uncle's will that can only be read aloud at midnight",
)
TEMPLATE = (
    "Write a story about {plot} in the style of {author}, about {words} words. End it with a "
    "line that says THE END.\n\nStart your story:"
)


def plot_split(test_plots: int, seed: int = 0) -> dict[str, list[str]]:
    """The plots shuffled by `seed`, the first `test_plots` held out: `{"train": .., "test": ..}`.

    >>> split = plot_split(12)
    >>> len(split["train"]), len(split["test"]), set(split["train"]) & set(split["test"])
    (24, 12, set())
    """
    if not 0 < test_plots < len(PLOTS):
        raise ValueError(f"test_plots must be between 1 and {len(PLOTS) - 1}, got {test_plots}")
    plots = list(PLOTS)
    random.Random(seed).shuffle(plots)
    return {"train": plots[test_plots:], "test": plots[:test_plots]}


def plot_prompts(
    author: str, words: int, plots: tuple[str, ...] | list[str] = PLOTS
) -> list[dict[str, Any]]:
    """One conversational prompt per plot, as TRL's GRPOTrainer takes them.

    >>> plot_prompts("Mark Twain", 1500)[0]["prompt"][0]["content"][:40]
    'Write a story about a boy who trades his'
    """
    return [
        {
            "prompt": [
                {"role": "user", "content": TEMPLATE.format(plot=p, author=author, words=words)}
            ],
            "plot": p,
        }
        for p in plots
    ]
