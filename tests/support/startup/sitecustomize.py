"""Imported by Python itself at start-up (the ``site`` module's customization hook) in every process
whose PYTHONPATH starts with this folder, as the replica processes of ``tests.support.replicas`` do:
the real ``voxprint-server`` then offers the test-only stage backends of
``tests.support.stage_backends``. No voxprint code is changed or asked to load anything."""

from tests.support.stage_backends import register

register()
