"""The vocabulary the server and the clients share, so that neither imports the other.

- ``enums``: the API's enums by human name ("png", "floyd-steinberg"), the terminal job states;
- ``backoff``: the one retry policy (cloud calls, resumed Watch streams, the gateway's submits);
- ``credentials_file``: files of names and their secrets (tenant tokens, device keys);
- ``addresses``: where a voxprint server listens by default.

It depends on the generated contract (``voxprint.v1``) and on nothing else of voxprint.
"""
