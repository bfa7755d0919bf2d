"""The encrypted file store: large files stream through in segments, and an altered or swapped file is refused."""

import io
import os
import shutil
import tracemalloc
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dsar_portal import filestore
from dsar_portal.crypto import generate_key, parse_key_list
from dsar_portal.filestore import FileDecryptionError, FileStore

MIB = 1024 * 1024


class _Generated(io.RawIOBase):
    """A large deterministic source that is never whole in memory."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = os.urandom(4096)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._left, len(self._block))
        buffer[:n] = self._block[:n]
        self._left -= n
        return n


@pytest.fixture
def keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = parse_key_list(f"k1:{generate_key()}")
    return settings


def test_a_file_of_several_segments_comes_back_exactly_as_stored(keys):
    data = os.urandom(3 * filestore.SEGMENT_SIZE + 12345)
    store = FileStore("archives")

    stored = store.save(io.BytesIO(data))

    assert stored.size == len(data)
    on_disk = (keys.PRIVATE_UPLOAD_DIR / "archives" / stored.name).read_bytes()
    assert on_disk.startswith(b"v1:k1:")
    assert data[:64] not in on_disk
    assert store.read_bytes(stored.name) == data
    assert b"".join(store.chunks(stored.name)) == data
    with store.open(stored.name) as reader:
        assert reader.read(10) == data[:10]


def test_storing_and_streaming_a_large_file_never_holds_it_in_memory(keys):
    """A 48 MiB file passes through with a few MiB of Python memory at most."""
    size = 48 * MIB
    store = FileStore("archives")
    tracemalloc.start()
    try:
        stored = store.save(_Generated(size))
        streamed = sum(len(chunk) for chunk in store.chunks(stored.name))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streamed == stored.size == size
    assert peak < 4 * MIB


def test_an_altered_byte_is_refused_with_a_clear_error(keys):
    store = FileStore("documents")
    stored = store.save(io.BytesIO(os.urandom(2 * filestore.SEGMENT_SIZE)))
    path = keys.PRIVATE_UPLOAD_DIR / "documents" / stored.name
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0x01  # in the last segment: the first one still reads
    path.write_bytes(bytes(blob))

    with pytest.raises(FileDecryptionError, match=f"documents/{stored.name} failed authentication"):
        store.read_bytes(stored.name)


def test_a_truncated_file_is_refused(keys):
    store = FileStore("documents")
    stored = store.save(io.BytesIO(os.urandom(2 * filestore.SEGMENT_SIZE)))
    path = keys.PRIVATE_UPLOAD_DIR / "documents" / stored.name
    path.write_bytes(path.read_bytes()[: filestore.SEGMENT_SIZE + 100])

    with pytest.raises(FileDecryptionError, match="failed authentication"):
        store.read_bytes(stored.name)


def test_a_file_copied_over_another_name_is_refused_before_anything_is_streamed(keys):
    """Files cannot be swapped: the name is bound into the ciphertext."""
    store = FileStore("documents")
    mine = store.save(io.BytesIO(b"mine"))
    theirs = store.save(io.BytesIO(b"theirs"))
    folder = keys.PRIVATE_UPLOAD_DIR / "documents"
    shutil.copyfile(folder / theirs.name, folder / mine.name)

    with pytest.raises(FileDecryptionError, match=f"documents/{mine.name} failed authentication"):
        store.chunks(mine.name)


def test_a_file_moved_to_another_namespace_is_refused(keys):
    stored = FileStore("documents").save(io.BytesIO(b"identity evidence"))
    (keys.PRIVATE_UPLOAD_DIR / "archives").mkdir()
    shutil.copyfile(
        keys.PRIVATE_UPLOAD_DIR / "documents" / stored.name, keys.PRIVATE_UPLOAD_DIR / "archives" / stored.name
    )

    with pytest.raises(FileDecryptionError):
        FileStore("archives").read_bytes(stored.name)


def test_a_rewritten_key_id_is_refused(keys):
    keys.FIELD_ENCRYPTION_KEYS = parse_key_list(f"k1:{generate_key()},k2:{generate_key()}")
    store = FileStore("documents")
    stored = store.save(io.BytesIO(b"sealed under k1"))
    path = keys.PRIVATE_UPLOAD_DIR / "documents" / stored.name
    path.write_bytes(path.read_bytes().replace(b"v1:k1:", b"v1:k2:", 1))

    with pytest.raises(FileDecryptionError, match="failed authentication"):
        store.read_bytes(stored.name)


def test_a_file_under_a_retired_key_says_which_key_is_missing(keys):
    store = FileStore("documents")
    stored = store.save(io.BytesIO(b"old"))
    keys.FIELD_ENCRYPTION_KEYS = parse_key_list(f"k2:{generate_key()}")

    with pytest.raises(FileDecryptionError, match="unknown key id 'k1'"):
        store.read_bytes(stored.name)


def test_names_cannot_leave_their_namespace(keys):
    store = FileStore("documents")
    for name in ("../secret.bin", "a/b.bin", ".tmp-x", ""):
        with pytest.raises(ValueError):
            store.read_bytes(name)
    with pytest.raises(ValueError):
        FileStore("../documents")


# --- Rollback-safe writes ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_stores_a_file_then_fails_leaves_no_file(keys):
    store = FileStore("documents")
    with pytest.raises(RuntimeError), filestore.atomic():
        store.save(io.BytesIO(b"personal data"))
        raise RuntimeError("something after the upload failed")

    assert list(store.names()) == []


@pytest.mark.django_db(transaction=True)
def test_a_transaction_marked_for_rollback_leaves_no_file(keys):
    store = FileStore("documents")
    with filestore.atomic():
        store.save(io.BytesIO(b"personal data"))
        transaction.set_rollback(True)

    assert list(store.names()) == []


@pytest.mark.django_db(transaction=True)
def test_a_file_committed_into_an_outer_block_goes_when_the_outer_block_fails(keys):
    store = FileStore("documents")
    with pytest.raises(RuntimeError), filestore.atomic():
        with filestore.atomic():
            store.save(io.BytesIO(b"personal data"))
        raise RuntimeError("the outer step failed")

    assert list(store.names()) == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_file_stays(keys):
    store = FileStore("documents")
    with filestore.atomic():
        stored = store.save(io.BytesIO(b"personal data"))

    assert store.read_bytes(stored.name) == b"personal data"


def test_the_sweep_keeps_young_and_wanted_files_and_removes_old_unwanted_ones(keys):
    store = FileStore("documents")
    wanted = store.save(io.BytesIO(b"wanted"))
    unwanted = store.save(io.BytesIO(b"unwanted"))
    young = store.save(io.BytesIO(b"young"))
    folder = keys.PRIVATE_UPLOAD_DIR / "documents"
    stale_temp = folder / ".tmp-interrupted"
    stale_temp.write_bytes(b"half a file")
    an_hour_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    for path in (folder / wanted.name, folder / unwanted.name, stale_temp):
        os.utime(path, (an_hour_ago, an_hour_ago))

    removed = store.sweep(
        older_than=timezone.now() - timedelta(hours=1), referenced=lambda names: [n for n in names if n == wanted.name]
    )

    assert removed == 2
    assert sorted(store.names()) == sorted([wanted.name, young.name])
    assert not stale_temp.exists()


def test_a_file_written_by_a_producer_that_pushes_comes_back_exactly_and_is_only_there_when_complete(keys):
    store = FileStore("pushed")
    data = os.urandom(3 * filestore.SEGMENT_SIZE + 17)
    with store.writer(suffix=".csv") as writer:
        for start in range(0, len(data), 100_000):
            writer.write(data[start : start + 100_000])
        assert not store.exists(writer.name)  # only a temporary file while it is written
    assert writer.name.endswith(".csv") and writer.size == len(data)
    assert store.read_bytes(writer.name) == data
    with pytest.raises(RuntimeError), store.writer() as failed:
        failed.write(b"half a part")
        raise RuntimeError("the producer failed")
    assert not store.exists(failed.name)
    assert list(store.names()) == [writer.name]
    assert not [entry for entry in os.scandir(store.folder) if entry.name.startswith(".")]  # no temporary file left
