"""`python -m services.style`: serve the style reward (settings from `STYLE_*` variables)."""

from services.commands import main

if __name__ == "__main__":
    main(["style"])
