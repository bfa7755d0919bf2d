"""Documents people send us: checked by their content, encrypted at rest, kept outside the web root.

They live in the kernel's encrypted file store (dsar_portal/filestore.py), namespace ``documents``.

A file's name and the browser's content type are claims, not facts: the type
is decided from the bytes, images are decoded and bounded in pixels, PDFs are
parsed and bounded in pages, each parse in a process of its own with a fixed
CPU and memory budget (``document_check.py``).
"""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.filestore import FileStore

from .models import DataSubjectRequest, RequestDocument

logger = logging.getLogger(__name__)

MAX_PDF_PAGES = 30
MAX_IMAGE_PIXELS = 40_000_000
ACCEPTED_TYPES_TEXT = "PDF, JPEG or PNG, up to 10 MB"

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)

_CHECKER = Path(__file__).with_name("document_check.py")
# Set on an upload once its content is checked, so a form and the service that stores it check it once.
_CHECKED = "_dsar_checked_content_type"


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _MAGIC:
        if head.startswith(signature):
            return content_type
    return None


def _too_large() -> ValidationError:
    megabytes = max(1, round(settings.DSAR_MAX_DOCUMENT_BYTES / (1024 * 1024)))
    return ValidationError(
        _("This file is larger than %(size)s MB. Please send a smaller file.") % {"size": megabytes}, code="too_large"
    )


def _unreadable(content_type: str) -> ValidationError:
    if content_type == "application/pdf":
        return ValidationError(_("This PDF could not be read. It may be damaged."), code="corrupt")
    return ValidationError(_("This image could not be read. It may be damaged."), code="corrupt")


def validate_document(upload: UploadedFile) -> str:
    """Return the document's real content type, or raise ValidationError saying what to fix.

    GDPR Art. 32 (security of processing): a file is the one thing an anonymous visitor sends that we parse, so it
    is checked within a fixed budget. Cheap checks first in this process (size, then the type from the first
    bytes); the parse itself (pypdf, Pillow) runs in a separate process limited in memory, CPU and wall-clock time
    (``document_check.py``). Whatever goes wrong there, the person sees "could not be read", never an error page.
    """
    checked = getattr(upload, _CHECKED, None)
    if checked is not None:
        return checked
    if upload.size is not None and upload.size > settings.DSAR_MAX_DOCUMENT_BYTES:
        raise _too_large()
    upload.seek(0)
    data = upload.read(settings.DSAR_MAX_DOCUMENT_BYTES + 1)
    upload.seek(0)
    if not data:
        raise ValidationError(_("This file is empty."), code="empty")
    if len(data) > settings.DSAR_MAX_DOCUMENT_BYTES:
        raise _too_large()
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise ValidationError(
            _("We can only accept a PDF, JPEG or PNG file. Please save your document in one of these formats."),
            code="type",
        )
    answer = _check_in_a_bounded_process(data, content_type)
    result = answer.get("result")
    if result == "encrypted":
        raise ValidationError(_("This PDF is password-protected. Please send it without a password."), code="password")
    if result == "pages":
        raise ValidationError(
            _("This PDF has %(pages)s pages; we accept up to %(max)s.")
            % {"pages": answer.get("pages"), "max": MAX_PDF_PAGES},
            code="pages",
        )
    if result == "pixels":
        raise ValidationError(_("This image is too large. Please send a smaller photo or scan."), code="pixels")
    if result != "ok":
        raise _unreadable(content_type)
    setattr(upload, _CHECKED, content_type)
    return content_type


def _check_in_a_bounded_process(data: bytes, content_type: str) -> dict:
    """Run ``document_check.py`` on ``data`` within the budget in settings; any failure answers "corrupt"."""
    command = [
        sys.executable,
        "-I",  # isolated: no environment variables, user site or working directory on the path
        str(_CHECKER),
        content_type,
        str(MAX_PDF_PAGES),
        str(MAX_IMAGE_PIXELS),
        str(settings.DSAR_DOCUMENT_CHECK_MEMORY_MB),
        str(settings.DSAR_DOCUMENT_CHECK_CPU_SECONDS),
    ]
    try:
        finished = subprocess.run(  # noqa: S603 - a fixed command; the file's bytes go to stdin only
            command,
            input=data,
            capture_output=True,  # stderr is dropped unread: a parser's words about the file stay out of the logs
            timeout=settings.DSAR_DOCUMENT_CHECK_TIMEOUT_SECONDS,
            check=False,
            close_fds=True,
        )
    except subprocess.TimeoutExpired:
        logger.warning("document check stopped after %ss", settings.DSAR_DOCUMENT_CHECK_TIMEOUT_SECONDS)
        return {"result": "corrupt"}
    if finished.returncode != 0:
        # Killed at its CPU or memory limit, most likely: a hostile or broken file.
        logger.warning("document check ended with status %s", finished.returncode)
        return {"result": "corrupt"}
    try:
        answer = json.loads(finished.stdout)
    except ValueError:
        return {"result": "corrupt"}
    return answer if isinstance(answer, dict) else {"result": "corrupt"}


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
            original_name=_short_name(os.path.basename(upload.name or "document")),
            content_type=content_type,
            size=stored.size,
            storage_key=stored.name,
        )


def _short_name(name: str, limit: int = 200) -> str:
    """The name cut to ``limit`` characters, keeping its extension (staff see what kind of file it was)."""
    if len(name) <= limit:
        return name
    stem, extension = os.path.splitext(name)
    extension = extension[:16]
    return stem[: limit - len(extension)] + extension


def _readable_key(document: RequestDocument) -> str:
    if document.deleted_at is not None:
        raise FileNotFoundError("document deleted")
    return document.storage_key


def document_read(document: RequestDocument) -> bytes:
    """Decrypted bytes of a stored document (callers check permission and record the view).

    Documents are bounded by settings.DSAR_MAX_DOCUMENT_BYTES; to stream, use ``document_chunks``.
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
