"""The REST API: each feature module declares its operations; routes.py collects them."""
