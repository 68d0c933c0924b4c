"""`python -m services.completeness`: serve the completeness reward (`COMPLETENESS_*` settings)."""

from services.commands import main

if __name__ == "__main__":
    main(["completeness"])
