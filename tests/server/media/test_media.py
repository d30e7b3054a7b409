"""The media interface as every backend honours it (a real directory, a real S3 server), then what
each backend adds: file durability and permissions, S3 multipart uploads and error messages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.s3 import running_moto
from voxprint.server.media import LocalMedia, Media, MediaError, MediaFull, MediaMissing, open_media
from voxprint.server.media.local import PARTIAL_PREFIX
from voxprint.server.media.s3 import MULTIPART_THRESHOLD

KEY = "image/0d5c8a6e-1f0b-4c43-9d2a-5e8f3b7c2a11-1.png"
DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
THREADS = 32
INVALID_KEYS = ["", "/etc/passwd", "../outside.png", "audio/../../outside.png", "audio//x.wav", "audio/", "a b.png"]


@pytest.fixture(params=["local", "s3"])
def media(request: pytest.FixtureRequest, tmp_path: Path) -> Media:
    url = request.getfixturevalue("s3_media_url") if request.param == "s3" else (tmp_path / "media").as_uri()
    return open_media(url, default_dir=tmp_path / "default")


@pytest.fixture
def local_media(tmp_path: Path) -> LocalMedia:
    return LocalMedia(tmp_path / "media")


@pytest.fixture
def s3_media(s3_media_url: str, tmp_path: Path) -> Media:
    return open_media(s3_media_url, default_dir=tmp_path)


@pytest.fixture
def s3_objects(s3_media_url: str, s3_client) -> Callable[[], dict[str, dict]]:
    """Reads the test bucket behind ``s3_media`` directly: ``s3_objects()`` maps object names to their heads."""
    bucket = s3_media_url.removeprefix("s3://").split("/")[0]

    def heads() -> dict[str, dict]:
        listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {item["Key"]: s3_client.head_object(Bucket=bucket, Key=item["Key"]) for item in listed}

    return heads


@pytest.fixture(scope="module")
def s3_endpoint_checking_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server that authenticates every request, so unknown credentials are refused."""
    with running_moto(tmp_path_factory.mktemp("moto-auth"), INITIAL_NO_AUTH_ACTION_COUNT="0") as endpoint:
        yield endpoint


@pytest.fixture
def tiny_disk(small_tmpfs: Callable[[str], Path]) -> Path:
    """A 64 KiB disk."""
    return small_tmpfs("64k")


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process umask a test changes."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def payload(size: int, fill: int) -> bytes:
    return bytes([fill]) * size


# -- the interface, for every backend ----------------------------------------------------------


def test_get_returns_what_put_stored(media):
    media.put(KEY, DATA)

    assert media.get(KEY) == DATA


def test_put_replaces_what_the_key_held(media):
    media.put(KEY, b"first picture")
    media.put(KEY, DATA)

    assert media.get(KEY) == DATA


def test_each_key_holds_its_own_data(media):
    media.put("audio/a.wav", b"recording a")
    media.put("audio/b.wav", b"recording b")

    assert (media.get("audio/a.wav"), media.get("audio/b.wav")) == (b"recording a", b"recording b")


def test_empty_data_is_stored_as_empty(media):
    media.put(KEY, b"")

    assert media.get(KEY) == b""


def test_data_above_the_multipart_threshold_round_trips(media):
    large = os.urandom(MULTIPART_THRESHOLD + 1024)
    media.put(KEY, large)

    assert media.get(KEY) == large


def test_get_of_a_key_never_stored_is_missing_and_names_the_key(media):
    with pytest.raises(MediaMissing, match="image/never-stored.png"):
        media.get("image/never-stored.png")


def test_delete_removes_the_data(media):
    media.put(KEY, DATA)
    media.delete(KEY)

    with pytest.raises(MediaMissing):
        media.get(KEY)


def test_delete_of_a_key_never_stored_is_not_an_error(media):
    media.delete("audio/never-stored.wav")


def test_local_copy_is_a_readable_file_holding_the_data(media):
    media.put(KEY, DATA)

    with media.local_copy(KEY) as copy:
        assert copy.read_bytes() == DATA


def test_local_copy_keeps_the_key_extension_for_tools_that_look_at_it(media):
    media.put("audio/job.ogg", b"OggS")

    with media.local_copy("audio/job.ogg") as copy:
        assert copy.suffix == ".ogg"


def test_local_copy_of_a_key_never_stored_is_missing(media):
    with pytest.raises(MediaMissing), media.local_copy("audio/never-stored.wav"):
        pass


def refuses_the_key(operation: Callable[[], object]) -> bool:
    try:
        operation()
    except ValueError as error:
        return "invalid media key" in str(error)
    return False


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_keys_outside_the_allowed_form_are_refused_by_every_operation(media, key):
    operations = {
        "put": lambda: media.put(key, DATA),
        "get": lambda: media.get(key),
        "delete": lambda: media.delete(key),
        "local_copy": lambda: media.local_copy(key).__enter__(),
    }

    assert [name for name, operation in operations.items() if not refuses_the_key(operation)] == []


def test_many_threads_store_and_read_their_own_keys_at_once(media):
    def store_and_read(number: int) -> bool:
        key, data = f"image/job-{number}.png", payload(4096 + number, number)
        media.put(key, data)
        return media.get(key) == data

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(store_and_read, range(THREADS * 4)))

    assert all(results)


def test_readers_see_either_the_old_or_the_new_data_never_part(media):
    versions = [payload(256 * 1024, fill) for fill in (1, 2)]
    media.put(KEY, versions[0])

    with ThreadPoolExecutor(THREADS) as pool:
        writes, reads = [], []
        for number in range(40):
            writes.append(pool.submit(media.put, KEY, versions[number % 2]))
            reads += [pool.submit(media.get, KEY) for _ in range(3)]
        seen = [read.result() for read in reads]
        for write in writes:
            write.result()

    assert all(data in versions for data in seen)


def test_url_opens_the_same_media_again(media, tmp_path):
    media.put(KEY, DATA)

    assert open_media(media.url, default_dir=tmp_path / "elsewhere").get(KEY) == DATA


# -- choosing a backend ------------------------------------------------------------------------


def test_no_url_means_the_default_directory(tmp_path):
    open_media(None, default_dir=tmp_path / "media").put(KEY, DATA)

    assert (tmp_path / "media" / KEY).read_bytes() == DATA


def test_a_file_url_means_that_directory(tmp_path):
    directory = tmp_path / "shared media"
    open_media(directory.as_uri(), default_dir=tmp_path / "default").put(KEY, DATA)

    assert (directory / KEY).read_bytes() == DATA


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/media",
        "file://otherhost/media",
        "file:relative/media",
        "file:///media?mode=ro",
        "s3://",
        "s3://key-id:secret@bucket/media",
        "s3://bucket/../media",
    ],
)
def test_urls_naming_no_usable_place_are_refused(url, tmp_path):
    with pytest.raises(ValueError):
        open_media(url, default_dir=tmp_path)


# -- the local backend -------------------------------------------------------------------------


def test_local_files_sit_at_their_key_below_the_root(local_media):
    local_media.put(KEY, DATA)

    assert (local_media.root / KEY).read_bytes() == DATA


def test_local_writes_leave_no_partial_file(local_media):
    local_media.put(KEY, DATA)
    local_media.put(KEY, DATA)

    assert [file.name for file in (local_media.root / KEY).parent.iterdir()] == [Path(KEY).name]


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o027])
def test_local_files_and_folders_are_private_whatever_the_umask(local_media, umask, mask):
    os.umask(mask)
    local_media.put(KEY, DATA)

    assert (local_media.root / KEY).stat().st_mode & 0o777 == 0o600
    assert (local_media.root / KEY).parent.stat().st_mode & 0o777 == 0o700


def test_local_missing_media_message_names_no_server_path(local_media):
    with pytest.raises(MediaMissing) as missing:
        local_media.get(KEY)

    assert str(local_media.root) not in str(missing.value)


def test_a_full_disk_raises_media_full_without_a_path(tiny_disk):
    media = LocalMedia(tiny_disk)

    with pytest.raises(MediaFull) as full:
        media.put(KEY, payload(128 * 1024, 7))

    assert str(tiny_disk) not in str(full.value)


def test_a_full_disk_leaves_no_partial_file_and_keeps_the_old_data(tiny_disk):
    media = LocalMedia(tiny_disk)
    media.put(KEY, DATA)

    with pytest.raises(MediaFull):
        media.put(KEY, payload(128 * 1024, 7))

    assert media.get(KEY) == DATA
    assert not [file for file in tiny_disk.rglob(f"{PARTIAL_PREFIX}*")]


# -- the S3 backend ----------------------------------------------------------------------------


def test_s3_objects_sit_at_their_key_below_the_url_prefix(s3_media, s3_objects):
    s3_media.put(KEY, DATA)

    assert list(s3_objects()) == [f"media/{KEY}"]


@pytest.mark.parametrize(("size", "in_parts"), [(MULTIPART_THRESHOLD - 1, False), (MULTIPART_THRESHOLD, True)])
def test_s3_uploads_in_parts_only_from_the_multipart_threshold(s3_media, s3_objects, size, in_parts):
    s3_media.put(KEY, payload(size, 3))

    # A multipart object's ETag ends in "-<number of parts>"; a single PUT's is a plain MD5.
    assert ("-" in s3_objects()[f"media/{KEY}"]["ETag"]) == in_parts


def test_s3_local_copy_is_removed_afterwards(s3_media):
    s3_media.put(KEY, DATA)

    with s3_media.local_copy(KEY) as copy:
        pass

    assert not copy.exists() and not copy.parent.exists()


def test_s3_url_names_the_bucket_and_prefix_and_no_secret(s3_media, s3_media_url, s3_environment):
    assert s3_media.url == s3_media_url
    assert s3_environment["AWS_SECRET_ACCESS_KEY"] not in s3_media.url


def test_s3_bucket_that_does_not_exist_is_an_error_naming_it(s3_media_url, tmp_path):
    with pytest.raises(MediaError, match="'voxprint-no-such-bucket' does not exist: create it"):
        open_media("s3://voxprint-no-such-bucket/media", default_dir=tmp_path)


def test_s3_without_credentials_is_an_error_naming_the_bucket(s3_media_url, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(MediaError, match="no AWS credentials for S3 bucket"):
        open_media(s3_media_url, default_dir=tmp_path)


def test_s3_unreachable_endpoint_is_an_error_naming_the_bucket_and_no_secret(
    s3_media_url, s3_environment, refused_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", refused_url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail at once instead of backing off

    with pytest.raises(MediaError, match="cannot reach S3 for bucket") as unreachable:
        open_media(s3_media_url, default_dir=tmp_path)

    assert s3_environment["AWS_SECRET_ACCESS_KEY"] not in str(unreachable.value)


def test_s3_refused_credentials_are_an_error_naming_the_bucket_and_no_secret(
    s3_media_url, s3_environment, s3_endpoint_checking_credentials, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint_checking_credentials)

    with pytest.raises(
        MediaError, match=r"S3 refused access to bucket 'voxprint-\w+' .*: check the AWS credentials"
    ) as refused:
        open_media(s3_media_url, default_dir=tmp_path)

    assert s3_environment["AWS_SECRET_ACCESS_KEY"] not in str(refused.value)
