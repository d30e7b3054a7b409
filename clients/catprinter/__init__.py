"""Bluetooth "cat printers" (GB01, GB02, GB03, GT01, MX05–MX11 and their clones): 384-dot thermal
printers that print voxprint's LSB-first raster row for row.

* `protocol` — frames, CRC-8, the per-model table and the pure raster → bytes encoder;
* `transport` — sends those bytes over Bluetooth LE with bleak, honouring the printer's flow control;
* `destination` — ``catprinter://ADDRESS?model=…`` and ``catprinter+file:///PATH?model=…``;
* `scan` — finds the printers in range (``voxprint printers scan``).

`voxprint.clients.printers` ties them in with the ESC/POS printers: ``printers.parse_destination``
reads every kind of destination, ``printers.encode`` and ``printers.deliver`` print on any of them.
"""
