"""Where recordings and pictures are stored: a local directory, or an S3-compatible bucket.

``open_media(url, default_dir)`` picks the backend from ``--media-url``; every backend offers the
small ``Media`` interface (put, get, delete, local_copy) and raises only ``MediaError`` and its kinds.
``PatientMedia`` wraps any of them to wait out an outage (``MediaUnavailable``) instead of failing.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from voxprint.server.extras import S3, needs_extra
from voxprint.server.media.interface import Media, MediaError, MediaFull, MediaMissing, MediaUnavailable, check_key
from voxprint.server.media.local import LocalMedia
from voxprint.server.media.patient import PatientMedia

__all__ = [
    "LocalMedia",
    "Media",
    "MediaError",
    "MediaFull",
    "MediaMissing",
    "MediaUnavailable",
    "PatientMedia",
    "open_media",
]


def open_media(url: str | None, default_dir: Path) -> Media:
    """The media at ``url``: ``file:///path``, ``s3://bucket/prefix``, or, when None, the directory ``default_dir``.

    ValueError for a URL that names no usable place; MediaError when S3 cannot be used (no bucket,
    no credentials, unreachable endpoint).
    """
    if not url:
        return LocalMedia(default_dir)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("a media URL takes no query or fragment")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("a file media URL needs an absolute local path: file:///path/to/media")
        return LocalMedia(Path(url2pathname(parts.path)))
    if parts.scheme == "s3":
        return _open_s3(parts.netloc, parts.path.strip("/"))
    raise ValueError("the media URL must start with file:// or s3://")


def _open_s3(bucket: str, prefix: str) -> Media:
    if not bucket or "@" in bucket or ":" in bucket:
        raise ValueError("an S3 media URL names a bucket and nothing else: s3://bucket/prefix (keys go in AWS_*)")
    if prefix:
        check_key(prefix)
    # boto3 is the optional 's3' extra, so it is imported only by those who store media in S3.
    with needs_extra(S3, error=MediaError):
        from voxprint.server.media.s3 import S3Media
    return S3Media(bucket, prefix)
