"""voxprint: a spoken phrase, turned into a picture on a 384-dot thermal printer.

One name, four parts, each importable on its own (importing ``voxprint`` itself loads nothing):

- ``voxprint.v1``: the gRPC contract, stubs generated from ``voxprint.proto``;
- ``voxprint.common``: the vocabulary the server and the clients share (enum names, job states,
  retry backoff, files of named secrets);
- ``voxprint.rasterizer``: pictures into the printer's 1-bit raster (Cython kernels, NumPy twin);
- ``voxprint.server``: the service (``voxprint-server``);
- ``voxprint.clients``: the Python clients, the ``voxprint`` CLI and the UDP gateway.
"""
