"""The report of an access answer as a PDF, where the person asked for one (issue 12, "A PDF of the report where the
person asked for one"; GDPR Art. 15(3): the copy in a commonly used electronic form, and Art. 12(1): concise,
intelligible and easily accessible).

The PDF is rendered by WeasyPrint from the same HTML as ``report.html`` (as ``casework.case_pack`` renders the case
pack), tagged PDF/UA-1 so it reads with assistive technology. It is bounded whatever the person's data: the report
lists each system's tables with their row counts and the files they are in, never the rows themselves, and the PDF
says that the data is in the archive's CSV and JSON files.
"""

from typing import Any

from django.template.loader import render_to_string

from requests_app.models import DataSubjectRequest, Right
from requests_app.scope import AccessScope, scope_of

REPORT_PDF_PATH = "report.pdf"


def report_pdf_wanted(request: DataSubjectRequest, *, portability: bool) -> bool:
    """The person asked for the report as a PDF on the access form (a portability answer is machine-readable
    files, Art. 20(1); it has no PDF)."""
    if portability or request.right != Right.ACCESS:
        return False
    scope = scope_of(request)
    return isinstance(scope, AccessScope) and scope.report_pdf


def report_pdf_render(context: dict[str, Any]) -> bytes:
    """The archive's report (the same template and context as ``report.html``), with a line saying where the data
    is, as a tagged PDF."""
    # Imported here, not with the module: only the PDF needs Pango, not the portal's pages or its workers' imports.
    from weasyprint import HTML

    html = render_to_string("fulfilment/archive_report.html", {**context, "pdf": True})
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
