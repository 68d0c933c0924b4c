"""`python -m services NAME`: serve a reward service, or `all` (settings from its environment)."""

from services.commands import main

if __name__ == "__main__":
    main()
