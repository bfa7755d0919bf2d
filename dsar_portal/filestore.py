"""Encrypted files at rest: one store for every app, under ``settings.PRIVATE_UPLOAD_DIR``.

Why this exists: documents people send us, and later the access archives we
compile for them, are personal data (GDPR Art. 32: encryption of personal data
at rest). They are sealed with the same keyring as the encrypted fields
(``settings.FIELD_ENCRYPTION_KEYS``: the first key encrypts, every listed key
decrypts), so one rotation covers fields and files alike.

Files can be hundreds of megabytes, so they are never whole in memory: they are
encrypted in segments with Tink's streaming AEAD (AES256_GCM_HKDF_1MB), a
vetted construction that authenticates every segment and the end of the stream,
so a truncated, reordered or altered file fails to decrypt.

Stored file format::

    v1:<kid>:<Tink AES-GCM-HKDF streaming ciphertext>

The Tink key for a key id is derived from our raw 32-byte key with HKDF (so the
field cipher and the file cipher never share a key). The associated data is the
header ``v1:<kid>:`` followed by ``<namespace>/<name>``: a file whose key id or
version was rewritten, or which was moved to another name (a swap), fails to
decrypt.

Each owner keeps its files in a namespace, a sub-folder (``documents/``...).
The store knows no app: an owner decides which names are still wanted (see
``FileStore.sweep``).

Files written inside ``atomic()`` are deleted again if that transaction rolls
back; a crash between writing and committing leaves a file no row refers to,
which the owner's sweep removes after a grace period.

Before this store existed, documents lay directly in ``PRIVATE_UPLOAD_DIR``,
each sealed whole with AES-GCM under a 32-byte NUL-padded key id header. Those
files are still read (as part of the namespace named by
``settings.FILESTORE_LEGACY_NAMESPACE``) and ``rotate_all`` rewrites them into
this format inside that namespace.
"""

from __future__ import annotations

import contextvars
import functools
import io
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import tink
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from tink import secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

from dsar_portal.crypto import KEY_ID_RE, DecryptionError

__all__ = [
    "FileDecryptionError",
    "FileStore",
    "StoredFile",
    "atomic",
    "namespaces",
    "rotate_all",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = b"v1"
SEGMENT_SIZE = 1024 * 1024  # Tink's AES256_GCM_HKDF_1MB: 1 MiB of ciphertext per authenticated segment
CHUNK_SIZE = 64 * 1024  # what we hand to a streaming HTTP response at a time
_TINK_KEY_TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"
_HKDF_INFO = b"dsar-portal filestore v1 AES256_GCM_HKDF_1MB"
_HEADER_MAX = len(FORMAT_VERSION) + 1 + 32 + 1  # "v1:" + longest key id + ":"
_NAMESPACE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")
# No separators and no leading dot: a name can never leave its namespace, and
# dot-names are kept for our temporary files.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_TEMP_PREFIX = ".tmp-"
_LEGACY_HEADER = 32
_LEGACY_NONCE = 12


class FileDecryptionError(DecryptionError):
    """A stored file could not be decrypted: tampered, truncated, swapped, or under a key we no longer hold.

    Messages name the namespace, file name and key id only (random, not personal data), so they are safe to log.
    """


def _tampered(label: str) -> FileDecryptionError:
    return FileDecryptionError(f"Stored file {label} failed authentication: it was altered, truncated or moved.")


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int  # plaintext bytes


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------


def _keys() -> dict[str, bytes]:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise DecryptionError("FIELD_ENCRYPTION_KEYS is empty.")
    return keys


@functools.cache
def _register_tink() -> None:
    streaming_aead.register()


@functools.lru_cache(maxsize=16)
def _streaming_aead(raw_key: bytes) -> streaming_aead.StreamingAead:
    """Tink's streaming AEAD for one of our raw keys, built as a one-key keyset."""
    _register_tink()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(raw_key)
    key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(version=0, key_value=derived)
    key.params.ciphertext_segment_size = SEGMENT_SIZE
    key.params.derived_key_size = 32
    key.params.hkdf_hash_type = common_pb2.SHA256
    keyset = tink_pb2.Keyset(primary_key_id=1)
    entry = keyset.key.add()
    entry.key_data.type_url = _TINK_KEY_TYPE_URL
    entry.key_data.value = key.SerializeToString()
    entry.key_data.key_material_type = tink_pb2.KeyData.SYMMETRIC
    entry.status = tink_pb2.ENABLED
    entry.key_id = 1
    entry.output_prefix_type = tink_pb2.RAW  # our own header names the key
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    return handle.primitive(streaming_aead.StreamingAead)


def _header(kid: str) -> bytes:
    return FORMAT_VERSION + b":" + kid.encode("ascii") + b":"


# --------------------------------------------------------------------------
# Rollback-safe writes
# --------------------------------------------------------------------------

# One list per open atomic() block, innermost last: the files written inside it.
_written: contextvars.ContextVar[tuple[list[Path], ...]] = contextvars.ContextVar("filestore_written", default=())


def _remove_quietly(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def atomic(using: str | None = None, *, savepoint: bool = True, durable: bool = False) -> Iterator[None]:
    """``transaction.atomic()`` that also deletes the files stored inside it if the block rolls back.

    Use it instead of ``transaction.atomic()`` around any block that stores a
    file and records it in the database: a rollback then leaves neither a row
    nor encrypted personal data on disk that nothing tracks. Files written in a
    block that commits into an outer ``atomic()`` stay in that outer block's
    care. If an outer plain ``transaction.atomic()`` rolls back instead, the
    file stays behind for the owner's orphan sweep.
    """
    written: list[Path] = []
    token = _written.set((*_written.get(), written))
    committed = False
    try:
        with transaction.atomic(using=using, savepoint=savepoint, durable=durable):
            yield
            # transaction.set_rollback(True) rolls back without an exception.
            marked_for_rollback = transaction.get_rollback(using=using)
        # Only here has the commit (or the release of the savepoint) itself succeeded.
        committed = not marked_for_rollback
    finally:
        _written.reset(token)
        if not committed:
            _remove_quietly(written)
            if written:
                logger.info("removed %s stored files after a rollback", len(written))
        elif outer := _written.get():
            outer[-1].extend(written)


def _track(path: Path) -> None:
    scopes = _written.get()
    if scopes:
        scopes[-1].append(path)


# --------------------------------------------------------------------------
# Disk helpers
# --------------------------------------------------------------------------


class _SyncedFile(io.FileIO):
    """A file that reaches the disk before it is closed: Tink closes its destination when the stream ends."""

    def close(self) -> None:
        if not self.closed:
            self.flush()
            os.fsync(self.fileno())
        super().close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _root() -> Path:
    return Path(os.path.realpath(settings.PRIVATE_UPLOAD_DIR))


def _legacy_namespace() -> str | None:
    return getattr(settings, "FILESTORE_LEGACY_NAMESPACE", None)


@contextmanager
def _encrypting(*, folder: Path, final: Path, associated: bytes) -> Iterator[BinaryIO]:
    """A stream that encrypts what is written to it under the active key into ``final``, atomically (temp file,
    fsync, rename when the block ends without an error; nothing is left behind when it raises).

    ``associated`` is ``namespace/name``.
    """
    kid, raw_key = next(iter(_keys().items()))
    header = _header(kid)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = folder / f"{_TEMP_PREFIX}{secrets.token_hex(8)}"
    try:
        destination = _SyncedFile(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        destination.write(header)
        with _streaming_aead(raw_key).new_encrypting_stream(destination, header + associated) as stream:
            yield stream
        os.replace(temp, final)
    except BaseException:
        _remove_quietly([temp])
        raise
    _fsync_dir(folder)


def _write_encrypted(source: BinaryIO, *, folder: Path, final: Path, associated: bytes) -> int:
    """Encrypt ``source`` under the active key into ``final``, atomically (temp file, fsync, rename).

    Returns the plaintext size. ``associated`` is ``namespace/name``.
    """
    size = 0
    with _encrypting(folder=folder, final=final, associated=associated) as stream:
        while chunk := source.read(CHUNK_SIZE):
            stream.write(chunk)
            size += len(chunk)
    return size


class _CountingWriter:
    """What ``FileStore.writer`` hands out: writes go to the encrypting stream and are counted."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self._stream = stream
        self.name = name
        self.size = 0

    def write(self, data: bytes) -> int:
        self._stream.write(data)
        self.size += len(data)
        return len(data)


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------


class _DecryptingReader(io.RawIOBase):
    """A read-only stream of plaintext that reports Tink's failures as FileDecryptionError."""

    def __init__(self, inner: BinaryIO, label: str) -> None:
        super().__init__()
        self._inner = inner
        self._label = label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._inner.read(len(buffer))
        except tink.TinkError:
            raise _tampered(self._label) from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _Chunks:
    """An iterator of plaintext pieces that closes its file when exhausted or closed (even if never started)."""

    def __init__(self, stack: ExitStack, reader: BinaryIO, first: bytes, chunk_size: int) -> None:
        self._stack = stack
        self._reader = reader
        self._next = first
        self._chunk_size = chunk_size

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> bytes:
        chunk = self._next
        if not chunk:
            self.close()
            raise StopIteration
        try:
            self._next = self._reader.read(self._chunk_size)
        except BaseException:
            self.close()
            raise
        return chunk

    def close(self) -> None:
        self._next = b""
        self._stack.close()


class FileStore:
    """The encrypted files of one owner, kept in ``PRIVATE_UPLOAD_DIR/<namespace>/``."""

    def __init__(self, namespace: str) -> None:
        if not _NAMESPACE_RE.fullmatch(namespace):
            raise ValueError(f"invalid file store namespace {namespace!r}")
        self.namespace = namespace

    def __repr__(self) -> str:
        return f"FileStore({self.namespace!r})"

    # -- paths

    @property
    def folder(self) -> Path:
        return _root() / self.namespace

    def _check_name(self, name: str) -> None:
        if not _NAME_RE.fullmatch(name):
            raise ValueError("invalid stored file name")

    def _path(self, name: str) -> Path:
        """Where ``name`` lies now: its namespace, or the flat layout of before namespaces."""
        self._check_name(name)
        path = self.folder / name
        if not path.exists() and self.namespace == _legacy_namespace():
            legacy = _root() / name
            if legacy.is_file():
                return legacy
        return path

    def _associated(self, name: str) -> bytes:
        return f"{self.namespace}/{name}".encode("ascii")

    def _label(self, name: str) -> str:
        return f"{self.namespace}/{name}"

    # -- writing

    def save(self, source: BinaryIO, *, suffix: str = ".bin") -> StoredFile:
        """Encrypt ``source`` (read in chunks, from its current position) into a new file with a random name.

        Inside ``atomic()`` the file is removed again if the transaction rolls back.
        """
        name = f"{secrets.token_hex(16)}{suffix}"
        self._check_name(name)
        final = self.folder / name
        _track(final)
        size = _write_encrypted(source, folder=self.folder, final=final, associated=self._associated(name))
        return StoredFile(name=name, size=size)

    @contextmanager
    def writer(self, *, suffix: str = ".bin") -> Iterator[_CountingWriter]:
        """A new file with a random name, written by whoever holds it (``write(bytes)``), for producers that push
        (a database's COPY) rather than being read from. The file exists under its ``name`` once the block ends
        without an error; ``size`` is the plaintext written. Inside ``atomic()`` it is removed on a rollback.
        """
        name = f"{secrets.token_hex(16)}{suffix}"
        self._check_name(name)
        final = self.folder / name
        _track(final)
        with _encrypting(folder=self.folder, final=final, associated=self._associated(name)) as stream:
            yield _CountingWriter(stream, name)

    def delete(self, name: str) -> bool:
        """Delete a stored file (in either layout); True if there was one."""
        self._check_name(name)
        removed = False
        candidates = [self.folder / name]
        if self.namespace == _legacy_namespace():
            candidates.append(_root() / name)
        for path in candidates:
            try:
                path.unlink()
                removed = True
            except FileNotFoundError:
                pass
        return removed

    # -- reading

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        """A reader of the plaintext, decrypted segment by segment as it is read.

        Raises FileNotFoundError if there is no such file, and FileDecryptionError (on open or while
        reading) if it was altered, truncated, moved to another name, or sealed under a retired key.
        """
        with open(self._path(name), "rb") as handle, self._reader(handle, name) as reader:
            yield reader

    def chunks(self, name: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The plaintext in pieces, for a streaming HTTP response.

        The file is opened and its first segment authenticated before this returns, so a retired key or a
        swapped file fails before a response has started; the file is closed when the iterator ends or is closed.
        """
        stack = ExitStack()
        try:
            reader = stack.enter_context(self.open(name))
            first = reader.read(chunk_size)
        except BaseException:
            stack.close()
            raise
        return _Chunks(stack, reader, first, chunk_size)

    def read_bytes(self, name: str) -> bytes:
        """The whole plaintext; only for files known to be small."""
        with self.open(name) as reader:
            return reader.read()

    def key_id(self, name: str) -> str:
        """The key id a stored file is sealed under (either format)."""
        return self._sealing(name)[0]

    def _sealing(self, name: str) -> tuple[str, bool]:
        """(key id, whether the file is in the current format)."""
        with open(self._path(name), "rb") as handle:
            head = handle.read(_HEADER_MAX)
        if head.startswith(FORMAT_VERSION + b":"):
            return self._parse_header(head, name)[0], True
        return self._legacy_kid(head, name), False

    def _parse_header(self, head: bytes, name: str) -> tuple[str, int]:
        end = head.find(b":", len(FORMAT_VERSION) + 1)
        kid = head[len(FORMAT_VERSION) + 1 : end].decode("ascii", "replace") if end > 0 else ""
        if not KEY_ID_RE.fullmatch(kid):
            raise FileDecryptionError(f"Stored file {self._label(name)} has a malformed header.")
        return kid, end + 1

    def _legacy_kid(self, head: bytes, name: str) -> str:
        kid = head[:_LEGACY_HEADER].rstrip(b"\0").decode("ascii", "replace")
        if len(head) < _LEGACY_HEADER or not KEY_ID_RE.fullmatch(kid):
            raise FileDecryptionError(f"Stored file {self._label(name)} is in no format we know.")
        return kid

    def _key(self, kid: str, name: str) -> bytes:
        key = _keys().get(kid)
        if key is None:
            raise FileDecryptionError(f"Stored file {self._label(name)} uses unknown key id {kid!r}.")
        return key

    def _reader(self, handle: BinaryIO, name: str) -> BinaryIO:
        head = handle.read(_HEADER_MAX)
        if head.startswith(FORMAT_VERSION + b":"):
            kid, header_length = self._parse_header(head, name)
            handle.seek(header_length)
            try:
                inner = _streaming_aead(self._key(kid, name)).new_decrypting_stream(
                    handle, head[:header_length] + self._associated(name)
                )
            except tink.TinkError:
                raise _tampered(self._label(name)) from None
            return io.BufferedReader(_DecryptingReader(inner, self._label(name)), buffer_size=CHUNK_SIZE)
        # Format of before this store: whole-file AES-GCM, bounded by the 10 MB upload limit of that time.
        kid = self._legacy_kid(head, name)
        handle.seek(0)
        blob = handle.read()
        header = blob[:_LEGACY_HEADER]
        nonce = blob[_LEGACY_HEADER : _LEGACY_HEADER + _LEGACY_NONCE]
        ciphertext = blob[_LEGACY_HEADER + _LEGACY_NONCE :]
        try:
            plaintext = AESGCM(self._key(kid, name)).decrypt(nonce, ciphertext, header + name.encode("ascii"))
        except InvalidTag:
            raise _tampered(self._label(name)) from None
        return io.BytesIO(plaintext)

    # -- rotation and housekeeping

    def names(self) -> Iterator[str]:
        """Names of the stored files (temporary files excluded), in either layout."""
        folders = [self.folder]
        if self.namespace == _legacy_namespace():
            folders.append(_root())
        seen: set[str] = set()
        for folder in folders:
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and _NAME_RE.fullmatch(entry.name) and entry.name not in seen:
                    seen.add(entry.name)
                    yield entry.name

    def rotate(self, name: str) -> bool:
        """Re-encrypt one file under the active key, in this format and namespace; False if it already was.

        Written atomically (temp file, fsync, rename), so a reader sees the old file or the new one, and a
        crash leaves the old one readable.
        """
        path = self._path(name)
        legacy = path.parent != self.folder
        kid, current_format = self._sealing(name)
        if not legacy and current_format and kid == next(iter(_keys())):
            if self.namespace == _legacy_namespace():
                # A crash after an earlier rotation wrote this file but before it removed the flat-layout copy.
                _remove_quietly([_root() / name])
            return False
        final = self.folder / name
        with self.open(name) as reader:
            _write_encrypted(reader, folder=self.folder, final=final, associated=self._associated(name))
        if not path.exists():
            # Deleted while we were re-encrypting: do not bring it back.
            _remove_quietly([final])
            return False
        if legacy:
            _remove_quietly([path])
        return True

    def sweep(
        self, *, older_than: datetime, referenced: Callable[[list[str]], Collection[str]], batch: int = 500
    ) -> int:
        """Delete files last written before ``older_than`` whose names ``referenced`` does not return.

        ``referenced`` gets a batch of names and returns those its owner still records. Stale temporary
        files of interrupted writes go too. Safe to run any number of times.
        """
        cutoff = older_than.timestamp()
        removed = 0
        try:
            for entry in os.scandir(self.folder):
                if entry.name.startswith(_TEMP_PREFIX) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    _remove_quietly([Path(entry.path)])
                    removed += 1
        except FileNotFoundError:
            pass
        old: list[str] = []
        for name in self.names():
            try:
                if self._path(name).stat().st_mtime < cutoff:
                    old.append(name)
            except FileNotFoundError:
                continue
        for start in range(0, len(old), batch):
            names = old[start : start + batch]
            keep = set(referenced(names))
            for name in names:
                if name not in keep and self.delete(name):
                    removed += 1
        return removed


def namespaces() -> list[str]:
    """Every namespace with a folder on disk, plus the one the flat layout belongs to."""
    root = _root()
    found: set[str] = set()
    try:
        found = {entry.name for entry in os.scandir(root) if entry.is_dir() and _NAMESPACE_RE.fullmatch(entry.name)}
    except FileNotFoundError:
        pass
    legacy = _legacy_namespace()
    if legacy:
        found.add(legacy)
    return sorted(found)


@dataclass
class RotationResult:
    rotated: dict[str, int]
    failed: dict[str, list[str]]


def rotate_all() -> RotationResult:
    """Re-encrypt every stored file not yet under the active key, in every namespace.

    A file that cannot be decrypted is reported, not skipped silently: its key must not be retired.
    """
    result = RotationResult(rotated={}, failed={})
    started = time.monotonic()
    for namespace in namespaces():
        store = FileStore(namespace)
        rotated = 0
        for name in list(store.names()):
            try:
                rotated += store.rotate(name)
            except FileNotFoundError:
                continue  # deleted meanwhile
            except (FileDecryptionError, OSError) as error:
                logger.warning("could not re-encrypt %s/%s: %s", namespace, name, type(error).__name__)
                result.failed.setdefault(namespace, []).append(name)
        result.rotated[namespace] = rotated
    logger.info("file rotation took %.1fs", time.monotonic() - started)
    return result
