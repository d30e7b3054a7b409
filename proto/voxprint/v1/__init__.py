"""Generated gRPC stubs for ``voxprint.v1`` (built from ``voxprint.proto`` by ``setup.py``)."""
