"""An AVAILABLE release with a real encrypted archive in the file store, and a browser that opens its status page:
what the review work hands to delivery, built directly (delivery tests do not walk the review)."""

import hashlib
import io
import zipfile
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from fulfilment.delivery import RELEASES
from fulfilment.models import Compilation, CompilationStatus, Release, ReleaseRecipient, ReleaseStatus
from requests_app.correspondence import status_link_mint

ARCHIVE_FILES = {
    "report.html": "<html><body><h1>Your data</h1><p>Customer C-1001</p></body></html>",
    "crm/customers.csv": "customer_number,name\nC-1001,Alan Turing\n",
    "crm/customers.json": '[{"customer_number": "C-1001", "name": "Alan Turing"}]',
}


def archive_bytes(files: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (files or ARCHIVE_FILES).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def zip_contents(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def available_release(
    request,
    *,
    recipient: str = ReleaseRecipient.SUBJECT,
    expires_in: timedelta = timedelta(days=14),
    files: dict[str, str] | None = None,
) -> Release:
    """An approved release whose encrypted archive is in FileStore("releases"), available for ``expires_in``."""
    data = archive_bytes(files)
    top = Compilation.objects.filter(request=request).order_by("-attempt").first()
    compilation = Compilation.objects.create(
        request=request,
        attempt=(top.attempt + 1) if top else 1,
        status=CompilationStatus.ASSEMBLED,
        assembled_at=timezone.now(),
    )
    stored = RELEASES.save(io.BytesIO(data), suffix=".zip")
    now = timezone.now()
    manifest = [
        {"path": name, "sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode())}
        for name, text in (files or ARCHIVE_FILES).items()
    ]
    return Release.objects.create(
        compilation=compilation,
        request=request,
        status=ReleaseStatus.AVAILABLE,
        recipient=recipient,
        archive_name=stored.name,
        archive_bytes=len(data),
        archive_sha256=hashlib.sha256(data).hexdigest(),
        manifest=manifest,
        available_at=now,
        expires_at=now + expires_in,
    )


def open_status_page(client, request) -> str:
    """This browser follows a status link from one of our e-mails; returns the status page's path."""
    token = status_link_mint(request=request)
    client.get(reverse("requests_app:status_link", args=[token]))
    return reverse("requests_app:status_detail", args=[request.reference])
