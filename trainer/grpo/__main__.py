"""`python -m trainer.grpo --config FILE [--key value ...]`: what accelerate launches (stage 3)."""

import sys

from trainer.common.config_loading import launch_arguments
from trainer.grpo.config import load_config
from trainer.grpo.training import train


def main(argv: list[str] | None = None) -> None:
    """Train with the config file and overrides of `argv` (the command line by default)."""
    path, overrides = launch_arguments(sys.argv[1:] if argv is None else argv)
    train(load_config(path, overrides))


if __name__ == "__main__":
    main()
