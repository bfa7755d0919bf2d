"""Check one uploaded document in a process of its own, within a fixed CPU and memory budget.

Run by ``requests_app.documents`` as ``python -I document_check.py <type> <max pages> <max pixels> <MB> <seconds>``
with the file's bytes on stdin; it prints one JSON object (``{"result": "ok"}``, ``"corrupt"``, ``"encrypted"``,
``"pages"`` with the count, ``"pixels"``). It imports nothing of the portal: a crafted file (a page tree thousands
of levels deep, an array of millions of elements, tens of thousands of pages) can exhaust this process, never the
web worker, and whatever the parsers would say about the file's content goes nowhere: their loggers and warnings are
silenced and this process's stderr is discarded by the caller.
"""

import io
import json
import logging
import resource
import sys
import warnings


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The soft limit sends SIGXCPU (the default action ends the process); the hard one a second later kills it.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # Nothing here has any business writing files.
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _check_pdf(data: bytes, max_pages: int) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        return {"result": "encrypted"}
    # The catalogue states the page count: refuse a long document before walking its page tree.
    stated = reader.trailer["/Root"]["/Pages"]["/Count"]
    if not isinstance(stated, int) or stated < 1:
        return {"result": "corrupt"}
    if stated > max_pages:
        return {"result": "pages", "pages": int(stated)}
    # The count may lie; walking the tree (bounded by the limits above) gives the real one.
    pages = len(reader.pages)
    if pages > max_pages:
        return {"result": "pages", "pages": pages}
    return {"result": "ok"}


def _check_image(data: bytes, max_pixels: int) -> dict:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if width * height > max_pixels:
            return {"result": "pixels"}
        image.verify()
    return {"result": "ok"}


def main(argv: list[str]) -> int:
    content_type, max_pages, max_pixels, memory_mb, cpu_seconds = argv[1], *map(int, argv[2:6])
    _limit(memory_mb, cpu_seconds)
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    data = sys.stdin.buffer.read()
    try:
        if content_type == "application/pdf":
            answer = _check_pdf(data, max_pages)
        else:
            answer = _check_image(data, max_pixels)
    except BaseException:  # noqa: BLE001 - any failure of a parser on a hostile file means "could not be read"
        answer = {"result": "corrupt"}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
