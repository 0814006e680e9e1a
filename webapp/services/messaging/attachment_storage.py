"""Where attachments' bytes live: one small interface, two backends (ATTACHMENT_STORAGE).

- `local` (the default; `make run`): files under ATTACHMENT_LOCAL_PATH, by default the instance
  folder's attachments/. One machine (any number of processes on it, or a shared volume).
- `s3`: a bucket of any S3-compatible service (boto3; ATTACHMENT_S3_BUCKET, ATTACHMENT_S3_PREFIX,
  ATTACHMENT_S3_ENDPOINT_URL for a service other than AWS, ATTACHMENT_S3_REGION; credentials from
  boto3's own chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or an instance role),
  for web processes on several machines. Objects are written private (no ACL, no public URL).

Either way the app reads an object and sends it itself, after checking who asks
(services/messaging/attachments.py): every download carries the same headers (nosniff, a sandboxing CSP,
Content-Disposition) and no URL to the bytes ever leaves the app. Keys are made by the app from ids;
no backend ever sees a person's file name.

Objects and transactions: an upload puts its objects before the rows that name them commit, and
`discard_unless_committed` deletes them again if that transaction rolls back; `delete_after_commit`
deletes the objects of rows marked removed once that is committed (a failed delete is logged: the
object is unreachable, its row says removed). Both ride on the database session's events, as
services/notifications/notifier.py does.
"""

import os
import shutil
import tempfile

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ...extensions import db

DISCARD, DELETE = "astro_discard_objects", "astro_delete_objects"


class MissingObject(LookupError):
    """The storage has no object under this key."""


class LocalStorage:
    """Files in a folder; keys are relative paths of the app's own making."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def _path(self, key):
        path = os.path.abspath(os.path.join(self.root, key))
        if os.path.commonpath([self.root, path]) != self.root:  # keys are ours; this is a second lock
            raise MissingObject(key)
        return path

    def put(self, key, data, content_type):
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Written aside, then renamed: a reader never sees half a file.
        handle, partial = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(partial, path)
        except BaseException:
            os.unlink(partial)
            raise

    def open(self, key):
        """A readable, seekable binary file; the caller closes it."""
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise MissingObject(key) from None

    def delete(self, key):
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key):
        return os.path.isfile(self._path(key))


class S3Storage:
    """Objects in an S3-compatible bucket under `prefix`."""

    def __init__(self, bucket, prefix="", client=None, endpoint_url=None, region=None):
        if client is None:
            import boto3  # only deployments that store in S3 load it

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _key(self, key):
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key, data, content_type):
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def open(self, key):
        """The object copied into a temporary file (kept in memory up to 1 MB): readable, seekable."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise MissingObject(key) from None
        copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        with body:
            shutil.copyfileobj(body, copy)
        copy.seek(0)
        return copy

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def from_config(config, instance_path):
    """The backend ATTACHMENT_STORAGE names."""
    if config["ATTACHMENT_STORAGE"] == "s3":
        return S3Storage(
            config["ATTACHMENT_S3_BUCKET"],
            config["ATTACHMENT_S3_PREFIX"],
            endpoint_url=config["ATTACHMENT_S3_ENDPOINT_URL"],
            region=config["ATTACHMENT_S3_REGION"],
        )
    return LocalStorage(config["ATTACHMENT_LOCAL_PATH"] or os.path.join(instance_path, "attachments"))


def storage():
    """This app's backend (made by create_app)."""
    return current_app.extensions["attachment_storage"]


def discard_unless_committed(keys):
    """Delete the objects under `keys` if the current transaction rolls back."""
    _queue(DISCARD, keys)


def delete_after_commit(keys):
    """Delete the objects under `keys` once the current transaction has committed."""
    _queue(DELETE, keys)


def _queue(name, keys):
    info = db.session().info
    info.setdefault(name, []).extend(keys)
    info.setdefault(name + "_storage", storage())


def _delete_all(session, name):
    keys = session.info.pop(name, [])
    backend = session.info.pop(name + "_storage", None)
    for key in keys:
        try:
            backend.delete(key)
        except Exception:  # the row already says removed; the object is unreachable through the app
            current_app.logger.exception("deleting attachment object %s failed", key)


@event.listens_for(Session, "after_commit")
def _committed(session):
    session.info.pop(DISCARD, None)
    session.info.pop(DISCARD + "_storage", None)
    _delete_all(session, DELETE)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(DELETE, None)
    session.info.pop(DELETE + "_storage", None)
    _delete_all(session, DISCARD)
