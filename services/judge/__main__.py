"""`python -m services.judge`: serve the content judge (settings from `JUDGE_*` variables)."""

from shared.cli import app

if __name__ == "__main__":
    app(["serve", "judge"])
