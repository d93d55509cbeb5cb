"""The wire contract of configsvc: the pydantic models of every request, response and feed
message (``configsvc_contract.models``) and the JSON codec that keeps numbers exact
(``configsvc_contract.exactjson``).

The server and the Python client both depend on it, and it on pydantic alone: it imports
nothing of either.
"""
