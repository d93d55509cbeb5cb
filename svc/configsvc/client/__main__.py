"""``python -m configsvc.client``: see ``configsvc.client.cli``."""

from configsvc.client import cli

if __name__ == "__main__":
    cli.main()
