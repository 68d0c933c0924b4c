"""`python -m trainer.sft --config FILE [--resume] [--key value ...]`: what accelerate runs
(stage 2)."""

import sys

from trainer.common.config_loading import launch_arguments
from trainer.sft.config import load_sft_config
from trainer.sft.training import train_sft


def main(argv: list[str] | None = None) -> None:
    """Train with the config file and overrides of `argv` (the command line by default)."""
    path, overrides = launch_arguments(sys.argv[1:] if argv is None else argv)
    train_sft(load_sft_config(path, overrides))


if __name__ == "__main__":
    main()
