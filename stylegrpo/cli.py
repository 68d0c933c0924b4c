"""`stylegrpo`: serve the reward services, score texts, build data, train and evaluate.

The one place that sees every side: each command lives beside the code it runs (`services.commands`,
`shared.score_command`, `trainer.commands`, `trainer.data.commands`,
`trainer.evaluation.commands`) and is only gathered here.
"""

from __future__ import annotations

import os
import sys

import typer

from services.commands import serve
from shared.score_command import score
from trainer.commands import eval_authorship, report, train_app
from trainer.data.commands import data_app
from trainer.evaluation.commands import eval_command


def build_app() -> typer.Typer:
    """The `stylegrpo` command with every subcommand."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
    app.command()(serve)
    app.command()(score)
    app.add_typer(train_app, name="train")
    app.add_typer(data_app, name="data")
    app.command("eval")(eval_command)
    app.command()(report)
    app.command("eval-authorship")(eval_authorship)
    return app


def main() -> None:
    """Entry point of the `stylegrpo` script."""
    build_app()(prog_name=os.path.basename(sys.argv[0]) or "stylegrpo")


if __name__ == "__main__":
    main()
