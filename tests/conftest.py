"""The suite's one conftest: it registers the fixture modules of ``tests/support`` (and nothing else)."""

pytest_plugins = [
    "tests.support.speech",
    "tests.support.servers",
    "tests.support.disks",
    "tests.support.fakes.fixtures",
    "tests.support.clients",
    "tests.support.gateway",
    "tests.support.s3",
    "tests.support.postgres",
    "tests.support.store",
    "tests.support.replicas",
    "tests.support.outages",
    "tests.support.catprinter",
]
