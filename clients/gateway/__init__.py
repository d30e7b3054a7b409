"""voxprint-gateway: recordings from microcontrollers over UDP in, printouts back toward paper.

`protocol` is the wire format (docs/udp-protocol.md), `assembler` turns datagrams into
recordings and decides which sessions to keep, `rate_limit` holds each source to its share,
`device_keys` reads who may send, `request_ids` names recordings for Submit, `delivery` sends
printouts on, `counters` keeps score and `metrics` shows it to Prometheus, `main` runs it all.
"""
