"""`python -m services.style`: serve the style reward (settings from `STYLE_*` variables)."""

from shared.cli import app

if __name__ == "__main__":
    app(["serve", "style"])
