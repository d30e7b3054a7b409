"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2, ...) through boto3.

Configured only by the standard AWS environment that boto3 reads itself: AWS_ENDPOINT_URL (or
AWS_ENDPOINT_URL_S3), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_PROFILE, ...
An S3 PUT, and a completed multipart upload, replace an object whole, so readers never see part.
"""

from __future__ import annotations

import errno
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import boto3
from boto3.exceptions import RetriesExceededError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
)
from botocore.exceptions import ConnectionError as S3ConnectionError

from voxprint.server.media.interface import MediaError, MediaFull, MediaMissing, MediaUnavailable, check_key

# Above this, uploads go in parts: a failed part is retried alone instead of the whole object.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
_TRANSFER = TransferConfig(
    multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD, max_concurrency=4
)
# The 32-thread I/O pool, the worker threads and a transfer's parts may all talk to S3 at once; a
# smaller pool would make them open and discard connections instead of reusing them. Short
# connect timeouts and standard retries (3 attempts unless AWS_MAX_ATTEMPTS says otherwise, with
# exponential backoff) make a dead endpoint fail a request in well under a minute, not hold a worker.
_CLIENT = Config(max_pool_connections=64, connect_timeout=5, read_timeout=30, retries={"mode": "standard"})

_MISSING_KEY = {"NoSuchKey", "NotFound", "404"}
_FULL = {"EntityTooLarge", "QuotaExceeded", "XMinioStorageFull"}
_REFUSED_CREDENTIALS = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "403"}
# "Not now" answers (besides any 5xx status): throttling and a request the service gave up waiting for.
_NOT_NOW = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestLimitExceeded"}
# The endpoint could not be reached, or the connection broke, after boto3's own retries; a download
# that kept breaking is s3transfer's RetriesExceededError, which is not a botocore error.
_UNREACHABLE = (S3ConnectionError, HTTPClientError, IncompleteReadError, RetriesExceededError)


class S3Media:
    def __init__(self, bucket: str, prefix: str = "") -> None:
        """Media under ``prefix`` in ``bucket``, which must exist: voxprint never creates buckets."""
        self.bucket = bucket
        self.prefix = prefix
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        with self._errors(key=None):
            # A session of its own: creating clients from boto3's shared default session is not thread-safe.
            self._client = boto3.session.Session().client("s3", config=_CLIENT)
            self._client.head_bucket(Bucket=bucket)

    def put(self, key: str, data: bytes) -> None:
        name = self._object(key)
        with self._errors(key):
            if len(data) < MULTIPART_THRESHOLD:
                self._client.put_object(Bucket=self.bucket, Key=name, Body=data)
            else:
                self._client.upload_fileobj(io.BytesIO(data), self.bucket, name, Config=_TRANSFER)

    def get(self, key: str) -> bytes:
        name = self._object(key)
        with self._errors(key):
            return self._client.get_object(Bucket=self.bucket, Key=name)["Body"].read()

    def delete(self, key: str) -> None:
        name = self._object(key)
        with self._errors(key):
            self._client.delete_object(Bucket=self.bucket, Key=name)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The object streamed into a temporary file (named like the key), removed afterwards."""
        name = self._object(key)
        with tempfile.TemporaryDirectory(prefix="voxprint-media-") as directory:
            copy = Path(directory, PurePosixPath(key).name)
            try:
                with self._errors(key), copy.open("wb") as file:
                    self._client.download_fileobj(self.bucket, name, file, Config=_TRANSFER)
            except OSError as error:
                # The local side failed (a full temp disk): a storage error like any other.
                full = error.errno in (errno.ENOSPC, errno.EDQUOT)
                kind = MediaFull if full else MediaError
                raise kind(f"cannot copy media {key!r} to local disk: {error.strerror}") from error
            yield copy

    def _object(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)

    @contextmanager
    def _errors(self, key: str | None) -> Iterator[None]:
        """Turn boto3's errors into media errors naming the bucket (and key), never a secret."""
        try:
            yield
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            raise self._client_error(error.response.get("Error", {}).get("Code", ""), status, key) from error
        except _UNREACHABLE as error:
            raise MediaUnavailable(
                f"cannot reach S3 for bucket {self.bucket!r} ({type(error).__name__}): check AWS_ENDPOINT_URL"
                " and that the service is up"
            ) from error
        except NoCredentialsError as error:
            raise MediaError(
                f"no AWS credentials for S3 bucket {self.bucket!r}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from error
        except (BotoCoreError, ValueError) as error:
            # ValueError: botocore's answer to a malformed AWS_ENDPOINT_URL.
            raise MediaError(
                f"cannot reach S3 for bucket {self.bucket!r} ({type(error).__name__}): check AWS_ENDPOINT_URL"
            ) from error

    def _client_error(self, code: str, status: int, key: str | None) -> MediaError:
        if key is not None and code in _MISSING_KEY:
            return MediaMissing(f"media {key!r} is missing")
        if code in _MISSING_KEY or code == "NoSuchBucket":
            return MediaError(f"S3 bucket {self.bucket!r} does not exist: create it first (voxprint never creates it)")
        if code in _FULL:
            return MediaFull(f"S3 bucket {self.bucket!r} refused the data as too large or over quota ({code})")
        if code in _REFUSED_CREDENTIALS:
            return MediaError(f"S3 refused access to bucket {self.bucket!r} ({code}): check the AWS credentials")
        if code in _NOT_NOW or status >= 500:
            return MediaUnavailable(f"S3 cannot serve bucket {self.bucket!r} right now ({code or status})")
        return MediaError(f"S3 request to bucket {self.bucket!r} failed ({code or 'no error code'})")
