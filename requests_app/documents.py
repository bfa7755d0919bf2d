"""Documents people send us: checked by their content, encrypted at rest, kept outside the web root.

A file's name and the browser's content type are claims, not facts: the type
is decided from the bytes, images are decoded and bounded in pixels, PDFs are
parsed and bounded in pages.
"""

import io
import os
import secrets
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from .models import DataSubjectRequest, RequestDocument

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


def _storage_path(storage_key: str) -> str:
    root = os.path.realpath(settings.PRIVATE_UPLOAD_DIR)
    path = os.path.realpath(os.path.join(root, storage_key))
    if not path.startswith(root + os.sep):
        raise ValueError("storage key escapes the upload folder")
    return path


def _encrypt_bytes(data: bytes, associated: bytes) -> bytes:
    kid, key = next(iter(settings.FIELD_ENCRYPTION_KEYS.items()))
    nonce = secrets.token_bytes(12)
    header = kid.encode().ljust(32, b"\0")
    return header + nonce + AESGCM(key).encrypt(nonce, data, header + associated)


def _decrypt_bytes(blob: bytes, associated: bytes) -> bytes:
    header, nonce, ciphertext = blob[:32], blob[32:44], blob[44:]
    kid = header.rstrip(b"\0").decode()
    key = settings.FIELD_ENCRYPTION_KEYS[kid]
    return AESGCM(key).decrypt(nonce, ciphertext, header + associated)


def document_store(*, request: DataSubjectRequest, upload: UploadedFile, purpose: str) -> RequestDocument:
    """Validate, encrypt and store an upload; the caller records the audit event."""
    content_type = validate_document(upload)
    upload.seek(0)
    data = upload.read()
    storage_key = f"{uuid.uuid4().hex}.bin"
    path = _storage_path(storage_key)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    # The storage key is bound into the ciphertext, so files cannot be swapped.
    blob = _encrypt_bytes(data, storage_key.encode())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(blob)
    return RequestDocument.objects.create(
        request=request,
        purpose=purpose,
        original_name=os.path.basename(upload.name or "document")[:200],
        content_type=content_type,
        size=len(data),
        storage_key=storage_key,
    )


def document_read(document: RequestDocument) -> bytes:
    """Decrypted bytes of a stored document (callers check permission and record the view)."""
    if document.deleted_at is not None:
        raise FileNotFoundError("document deleted")
    with open(_storage_path(document.storage_key), "rb") as handle:
        return _decrypt_bytes(handle.read(), document.storage_key.encode())


def document_erase_file(document: RequestDocument) -> None:
    try:
        os.remove(_storage_path(document.storage_key))
    except FileNotFoundError:
        pass
