"""``python -m configsvc_client``: see ``configsvc_client.cli``."""

from configsvc_client import cli

if __name__ == "__main__":
    cli.main()
