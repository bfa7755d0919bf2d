"""Documents people send us: checked by their content, encrypted at rest, kept outside the web root.

They live in the kernel's encrypted file store (dsar_portal/filestore.py), namespace ``documents``.

A file's name and the browser's content type are claims, not facts: the type
is decided from the bytes, images are decoded and bounded in pixels, PDFs are
parsed and bounded in pages.
"""

import io
import logging
import os
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.filestore import FileStore

from .models import DataSubjectRequest, RequestDocument

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 30
MAX_IMAGE_PIXELS = 40_000_000
ACCEPTED_TYPES_TEXT = "PDF, JPEG or PNG, up to 10 MB"

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _MAGIC:
        if head.startswith(signature):
            return content_type
    return None


def validate_document(upload: UploadedFile) -> str:
    """Return the document's real content type, or raise ValidationError saying what to fix."""
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(_("This file is larger than 10 MB. Please send a smaller file."), code="too_large")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if not data:
        raise ValidationError(_("This file is empty."), code="empty")
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise ValidationError(
            _("We can only accept a PDF, JPEG or PNG file. Please save your document in one of these formats."),
            code="type",
        )
    if content_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_image(data)
    return content_type


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(_("This PDF is password-protected. Please send it without a password."))
        pages = len(reader.pages)
    except ValidationError:
        raise
    except (PdfReadError, ValueError, OSError, KeyError, TypeError):
        raise ValidationError(_("This PDF could not be read. It may be damaged."), code="corrupt") from None
    if pages > MAX_PDF_PAGES:
        raise ValidationError(
            _("This PDF has %(pages)s pages; we accept up to %(max)s.") % {"pages": pages, "max": MAX_PDF_PAGES},
            code="pages",
        )


def _check_image(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(_("This image is too large. Please send a smaller photo or scan."))
            image.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("This image could not be read. It may be damaged."), code="corrupt") from None


# --- Storage -------------------------------------------------------------------------------

# Longer than any transaction that stores a document: a younger file may belong to one not yet committed.
ORPHAN_GRACE = timedelta(hours=1)

_files = FileStore("documents")


def document_store(*, request: DataSubjectRequest, upload: UploadedFile, purpose: str) -> RequestDocument:
    """Validate, encrypt and store an upload; the caller records the audit event.

    GDPR Art. 32: the file is encrypted at rest, its storage key bound into the ciphertext so files cannot
    be swapped. Call it inside ``dsar_portal.filestore.atomic()``: if that transaction rolls back, the file
    goes with it. Outside one, a failure here still removes it; a later rollback leaves it to
    ``orphan_files_sweep``.
    """
    content_type = validate_document(upload)
    upload.seek(0)
    with filestore.atomic():
        stored = _files.save(upload)
        return RequestDocument.objects.create(
            request=request,
            purpose=purpose,
            original_name=os.path.basename(upload.name or "document")[:200],
            content_type=content_type,
            size=stored.size,
            storage_key=stored.name,
        )


def _readable_key(document: RequestDocument) -> str:
    if document.deleted_at is not None:
        raise FileNotFoundError("document deleted")
    return document.storage_key


def document_read(document: RequestDocument) -> bytes:
    """Decrypted bytes of a stored document (callers check permission and record the view).

    Documents are bounded by MAX_DOCUMENT_BYTES; to stream, use ``document_chunks``.
    """
    return _files.read_bytes(_readable_key(document))


def document_chunks(document: RequestDocument) -> Iterator[bytes]:
    """The decrypted document in pieces, for a streaming response (callers check permission and record the view).

    Raises FileDecryptionError before the first piece if the file was swapped or its key retired.
    """
    return _files.chunks(_readable_key(document))


def document_erase_file(document: RequestDocument) -> None:
    """Delete the stored file of a document; the caller marks the row deleted and records it."""
    _files.delete(document.storage_key)


def orphan_files_sweep(*, now: datetime | None = None) -> int:
    """Delete document files no live document refers to, once older than ORPHAN_GRACE.

    GDPR Art. 5(1)(e): a file whose transaction never committed (a crash between writing and
    committing), or whose document was deleted, is personal data nothing tracks. Safe to run any number
    of times.
    """
    now = now or timezone.now()

    def referenced(names: list[str]) -> list[str]:
        return list(
            RequestDocument.objects.filter(storage_key__in=names, deleted_at=None).values_list("storage_key", flat=True)
        )

    removed = _files.sweep(older_than=now - ORPHAN_GRACE, referenced=referenced)
    if removed:
        logger.info("removed %s orphan document files", removed)
    return removed
