"""The style reward: how much a text reads like an author, judged over the whole text."""
