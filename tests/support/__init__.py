"""What the specifications share: real servers and processes, fakes of the vendors, recordings.

The fixture modules are registered once, in ``tests/conftest.py``; helpers are imported by name.
Benchmarks import this package too: run them from the checkout as ``python -m benchmarks.NAME``.
"""

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
