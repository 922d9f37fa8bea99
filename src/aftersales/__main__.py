"""``python -m aftersales`` runs the command line."""

from aftersales.entrypoints.cli.app import main

if __name__ == "__main__":
    main()
