"""Stored documents survive a key rotation, and no document file outlives the row that records it."""

import io
import os
import secrets
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import CommandError, call_command
from django.utils import timezone

from dsar_portal import filestore
from dsar_portal.crypto import generate_key, parse_key_list
from requests_app import documents
from requests_app.models import DocumentPurpose, RequestDocument
from requests_app.tasks import sweep_orphan_document_files
from tests.factories import RequestDocumentFactory, png_bytes, png_upload, submitted_request

pytestmark = pytest.mark.django_db


def _legacy_document(request, settings, data: bytes) -> RequestDocument:
    """A document as portals stored it before the file store: flat folder, whole-file AES-GCM, 32-byte kid header."""
    storage_key = f"{secrets.token_hex(16)}.bin"
    kid, key = next(iter(settings.FIELD_ENCRYPTION_KEYS.items()))
    nonce = os.urandom(12)
    header = kid.encode().ljust(32, b"\0")
    blob = header + nonce + AESGCM(key).encrypt(nonce, data, header + storage_key.encode())
    settings.PRIVATE_UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    (settings.PRIVATE_UPLOAD_DIR / storage_key).write_bytes(blob)
    return RequestDocument.objects.create(
        request=request,
        purpose=DocumentPurpose.SUPPORTING,
        original_name="old-scan.png",
        content_type="image/png",
        size=len(data),
        storage_key=storage_key,
    )


def test_documents_stored_before_the_file_store_are_still_read(settings):
    request = submitted_request()
    document = _legacy_document(request, settings, png_bytes())

    assert documents.document_read(document) == png_bytes()
    assert b"".join(documents.document_chunks(document)) == png_bytes()


def test_after_rotation_the_old_key_can_be_retired_and_every_document_still_opens(settings):
    old = parse_key_list(f"old:{generate_key()}")
    settings.FIELD_ENCRYPTION_KEYS = old
    request = submitted_request()
    legacy = _legacy_document(request, settings, png_bytes((20, 20)))
    current = [RequestDocumentFactory(request=request) for _ in range(2)]
    deleted = RequestDocumentFactory(request=request)
    documents.document_erase_file(deleted)
    deleted.deleted_at = timezone.now()
    deleted.save()

    # README: put a new key first, keep the old one after it, run the command.
    settings.FIELD_ENCRYPTION_KEYS = {**parse_key_list(f"new:{generate_key()}"), **old}
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Files in documents/: 3 re-encrypted" in out.getvalue()
    # Then retire the old key.
    settings.FIELD_ENCRYPTION_KEYS = {"new": settings.FIELD_ENCRYPTION_KEYS["new"]}

    assert documents.document_read(legacy) == png_bytes((20, 20))
    for document in current:
        assert documents.document_read(document) == png_bytes()
    folder = settings.PRIVATE_UPLOAD_DIR / "documents"
    assert (folder / legacy.storage_key).read_bytes().startswith(b"v1:new:")
    assert not (settings.PRIVATE_UPLOAD_DIR / legacy.storage_key).exists()  # moved out of the flat layout
    assert not (folder / deleted.storage_key).exists()  # a deleted document stays deleted

    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Files in documents/: 0 re-encrypted" in out.getvalue()


def test_rotation_refuses_to_report_success_while_a_file_cannot_be_decrypted(settings):
    old = parse_key_list(f"old:{generate_key()}")
    settings.FIELD_ENCRYPTION_KEYS = old
    document = RequestDocumentFactory()
    path = settings.PRIVATE_UPLOAD_DIR / "documents" / document.storage_key
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0x01
    path.write_bytes(bytes(blob))
    settings.FIELD_ENCRYPTION_KEYS = {**parse_key_list(f"new:{generate_key()}"), **old}

    err = io.StringIO()
    with pytest.raises(CommandError, match="keep the old keys"):
        call_command("rotate_encryption_keys", stdout=io.StringIO(), stderr=err)
    assert f"documents/{document.storage_key}" in err.getvalue()


# --- Nothing left behind ------------------------------------------------------------------------------


def test_a_transaction_that_stores_a_document_then_fails_leaves_no_file(settings):
    request = submitted_request()

    with pytest.raises(RuntimeError), filestore.atomic():
        documents.document_store(request=request, upload=png_upload(), purpose=DocumentPurpose.SUPPORTING)
        raise RuntimeError("a later step of the same operation failed")

    assert not RequestDocument.objects.exists()
    folder = settings.PRIVATE_UPLOAD_DIR / "documents"
    assert not folder.exists() or not any(folder.iterdir())


def _age(settings, document_or_key, hours: float) -> None:
    key = getattr(document_or_key, "storage_key", document_or_key)
    path = settings.PRIVATE_UPLOAD_DIR / "documents" / key
    when = (timezone.now() - timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))


def test_an_orphan_older_than_the_grace_period_is_swept_and_the_rest_kept(settings):
    request = submitted_request()
    kept = RequestDocumentFactory(request=request)
    _age(settings, kept, 5)
    # A crash between writing and committing: a file no row refers to.
    old_orphan = documents._files.save(io.BytesIO(png_bytes()))
    _age(settings, old_orphan.name, 2)
    young_orphan = documents._files.save(io.BytesIO(png_bytes()))  # its transaction may still be open
    erased_late = RequestDocumentFactory(request=request, deleted_at=timezone.now())
    _age(settings, erased_late, 2)

    assert documents.orphan_files_sweep() == 2

    names = set(documents._files.names())
    assert names == {kept.storage_key, young_orphan.name}
    assert documents.document_read(kept) == png_bytes()
    # Two hours later the young orphan is old enough to go too.
    assert documents.orphan_files_sweep(now=timezone.now() + timedelta(hours=2)) == 1


def test_the_orphan_sweep_task_can_run_twice(settings):
    orphan = documents._files.save(io.BytesIO(b"left by a crash"))
    _age(settings, orphan.name, 2)

    assert sweep_orphan_document_files.delay().get() == 1
    assert sweep_orphan_document_files.delay().get() == 0


def test_a_rotation_interrupted_after_moving_an_old_document_finishes_on_the_next_run(settings):
    """A crash between writing the new file and removing the old flat-layout copy leaves no copy behind."""
    old = parse_key_list(f"old:{generate_key()}")
    settings.FIELD_ENCRYPTION_KEYS = old
    legacy = _legacy_document(submitted_request(), settings, png_bytes())
    flat_copy = (settings.PRIVATE_UPLOAD_DIR / legacy.storage_key).read_bytes()
    settings.FIELD_ENCRYPTION_KEYS = {**parse_key_list(f"new:{generate_key()}"), **old}
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    (settings.PRIVATE_UPLOAD_DIR / legacy.storage_key).write_bytes(flat_copy)  # as if the crash came before removal

    call_command("rotate_encryption_keys", stdout=io.StringIO())

    assert not (settings.PRIVATE_UPLOAD_DIR / legacy.storage_key).exists()
    assert documents.document_read(legacy) == png_bytes()
