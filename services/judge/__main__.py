"""`python -m services.judge`: serve the content judge (settings from `JUDGE_*` variables)."""

from services.commands import main

if __name__ == "__main__":
    main(["judge"])
