"""`python -m trainer.style_encoder --config FILE [--key value ...]`: what accelerate runs
(stage 1)."""

import logging
import sys

from trainer.common.config_loading import launch_arguments
from trainer.style_encoder.config import load_style_encoder_config
from trainer.style_encoder.training import train_style_encoder


def main(argv: list[str] | None = None) -> None:
    """Train with the config file and overrides of `argv` (the command line by default)."""
    path, overrides = launch_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO)
    train_style_encoder(load_style_encoder_config(path, overrides))


if __name__ == "__main__":
    main()
