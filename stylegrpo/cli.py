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

DEBUG_FLAG = "--debug"
HELP = (
    f"{__doc__.splitlines()[0]}\n\nA mistake ends in one line and exit code 2; {DEBUG_FLAG} "
    "(anywhere on the line) shows the traceback of an unexpected error."
)


def build_app(*, debug: bool = False) -> typer.Typer:
    """The `stylegrpo` command with every subcommand; `debug` prints tracebacks in full."""
    app = typer.Typer(
        no_args_is_help=True, add_completion=False, help=HELP, pretty_exceptions_enable=debug
    )
    app.command()(serve)
    app.command()(score)
    app.add_typer(train_app, name="train")
    app.add_typer(data_app, name="data")
    app.command("eval")(eval_command)
    app.command()(report)
    app.command("eval-authorship")(eval_authorship)
    return app


def program_name() -> str:
    """`stylegrpo`, or the script's name when installed under another."""
    name = os.path.basename(sys.argv[0])
    return "stylegrpo" if name in ("", "__main__.py") else name


def main() -> None:
    """Entry point of the `stylegrpo` script: an unexpected error is one line unless `--debug`."""
    args = sys.argv[1:]
    debug = DEBUG_FLAG in args
    args = [arg for arg in args if arg != DEBUG_FLAG]
    try:
        build_app(debug=debug)(args=args, prog_name=program_name())
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"error: {type(exc).__name__}: {exc} (add {DEBUG_FLAG} for the traceback)", err=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
