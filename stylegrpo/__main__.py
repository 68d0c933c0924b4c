"""`python -m stylegrpo`: the `stylegrpo` command."""

from stylegrpo.cli import main

if __name__ == "__main__":
    main()
