"""voxprint-gateway: recordings from microcontrollers over UDP in, printouts back toward paper.

`protocol` is the wire format (docs/udp-protocol.md), `assembler` turns datagrams into
recordings, `delivery` sends printouts on, `counters` keeps score, `main` runs it all.
"""
