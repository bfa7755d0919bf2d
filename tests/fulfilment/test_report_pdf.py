"""The report as a PDF where the person asked for one (issue 12; GDPR Art. 15(3)): ``report.pdf`` in the archive,
listed in its manifest, rendered from the report's HTML, saying the data is in the CSV and JSON files."""

import hashlib
import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from fulfilment import services
from fulfilment.models import Compilation, CompilationStatus
from requests_app.models import Right
from requests_app.scope import AccessFormat, AccessScope, PortabilityScope

from .conftest import alan_request

pytestmark = pytest.mark.django_db(transaction=True)


def _archive(compilation: Compilation) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(services.ARCHIVES.read_bytes(compilation.archive_name)))


def test_a_person_who_asked_for_a_pdf_gets_the_report_as_a_pdf_listed_in_the_manifest(automated_register):
    request = alan_request(details=AccessScope(format=AccessFormat.REPORT_AND_FILES, report_pdf=True).as_details())
    compilation = Compilation.objects.get(request=request)
    assert compilation.status == CompilationStatus.ASSEMBLED
    archive = _archive(compilation)
    pdf = archive.read("report.pdf")
    assert pdf.startswith(b"%PDF-")
    manifest = json.loads(archive.read("manifest.json"))
    listed = {item["path"]: item["sha256"] for item in manifest["files"]}
    assert listed["report.pdf"] == hashlib.sha256(pdf).hexdigest()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Your personal data held by" in text
    assert "the data itself is in the CSV and JSON files" in " ".join(text.split())
    # Bounded: the PDF lists the tables and their files, never the rows (Alan's orders are in the CSV only).
    assert "O-1001-" not in text
    # The web page report says nothing about a PDF.
    assert "This PDF is the report only" not in archive.read("report.html").decode()


def test_no_pdf_unless_asked_and_old_requests_without_the_question_still_compile(automated_register):
    details = AccessScope().as_details()
    del details["access_report_pdf"]  # filed before the form asked
    request = alan_request(details=details)
    compilation = Compilation.objects.get(request=request)
    assert compilation.status == CompilationStatus.ASSEMBLED
    assert "report.pdf" not in _archive(compilation).namelist()


def test_a_portability_answer_has_no_pdf(automated_register):
    request = alan_request(Right.PORTABILITY, details={**PortabilityScope().as_details(), "access_report_pdf": True})
    assert "report.pdf" not in _archive(Compilation.objects.get(request=request)).namelist()
