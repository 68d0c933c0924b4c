"""`python -m services.completeness`: serve the completeness reward (`COMPLETENESS_*` settings)."""

from shared.cli import app

if __name__ == "__main__":
    app(["serve", "completeness"])
