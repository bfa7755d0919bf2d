"""Crafted PDFs of the kind an attacker uploads, written as raw PDF syntax (no PDF library involved).

Each is small on the wire and costly for a naive parser: a page tree deeper than any real one, an array longer
than any real one, and a flat tree of tens of thousands of pages.
"""


def pdf_from_objects(objects: list[bytes], *, root: int = 1) -> bytes:
    """A well-formed PDF (header, numbered objects, cross-reference table, trailer) around ``objects``."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref_at)
    return bytes(out)


def deep_page_tree_pdf(depth: int = 150) -> bytes:
    """One page at the bottom of ``depth`` nested page-tree nodes (real files have a handful of levels)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = level + 2
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (depth + 1))
    return pdf_from_objects(objects)


def long_array_pdf(length: int = 120_000) -> bytes:
    """One page whose dictionary holds an array of ``length`` numbers."""
    array = b"[" + b" ".join([b"0"] * length) + b"]"
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Junk " + array + b" >>",
        ]
    )


def many_pages_pdf(pages: int = 99_000) -> bytes:
    """A flat page tree of ``pages`` pages (about 6.6 MB for 99,000)."""
    kids = b" ".join(b"%d 0 R" % (number + 3) for number in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /MediaBox [0 0 612 792] /Kids [" + kids + b"] /Count %d >>" % pages,
    ]
    objects += [b"<</Type/Page/Parent 2 0 R>>"] * pages
    return pdf_from_objects(objects)


def malformed_pdf(secret: bytes = b"SECRET-FRAGMENT-4711") -> bytes:
    """A PDF with a broken cross-reference table and ``secret`` in its objects, to see what a parser logs."""
    twice = b"/" + secret + b" (a) /" + secret + b" (b)"
    body = (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R " + twice + b" >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 " + twice + b" >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R " + twice + b" >>\nendobj\n"
        b"xref\n0 4\n0000000000 65535 f \n0000000999 00000 n \n0000000888 00000 n \n0000000777 00000 n \n"
        b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n123456\n%%EOF\n"
    )
    return body
