"""Bounded file uploads: no request body reaches the disk beyond the size of one document.

Registered as the only entry of ``FILE_UPLOAD_HANDLERS``. A body up to ``FILE_UPLOAD_MAX_MEMORY_SIZE`` (one document
and the form around it) is parsed in memory, as Django's own memory handler would; a larger one goes to a temporary
file that stops growing at ``DSAR_MAX_DOCUMENT_BYTES``: the rest of that file is read and dropped, and the form gets
a placeholder of the full size, so it says "larger than 10 MB" and keeps everything else the person typed. (Bodies
far beyond that are refused by the proxy in front: README, ``client_max_body_size``.)

File names are claims of the browser's: one longer than any real file system allows (a crafted request) is shortened,
keeping its extension, before Django parses it, so the person gets the form's answer rather than a bare
"Bad Request" from a part header Django refuses to read.
"""

import io
import os
import re

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, MemoryFileUploadHandler
from django.http.multipartparser import MultiPartParser

# Longer names are shortened; RequestDocument.original_name keeps 200 characters.
MAX_FILE_NAME = 200
# Django refuses a part whose headers pass 1 KiB; any block near that size is checked for a long file name.
_LONG_HEADERS = 512
_FILE_NAME = re.compile(rb'(filename\*?=)("(?:[^"\\\r\n]|\\.)*"?|[^;\r\n]*)', re.IGNORECASE)


class OversizedUpload(UploadedFile):
    """What is left of a file larger than a document may be: its name and its size, none of its bytes."""

    def __init__(self, name: str, content_type: str, size: int, charset: str | None) -> None:
        super().__init__(io.BytesIO(), name, content_type, size, charset)


def _short_name(match: re.Match) -> bytes:
    value = match.group(2)
    name = value.strip(b'"')
    if len(name) <= MAX_FILE_NAME:
        return match.group(0)
    stem, extension = os.path.splitext(name.decode("utf-8", "replace"))
    extension = extension[:16]
    stem = re.sub(r"%[0-9A-Fa-f]?$", "", stem[: MAX_FILE_NAME - len(extension)])
    short = (stem + extension).replace('"', "").replace("\\", "")
    return match.group(1) + b'"' + short.encode("utf-8") + b'"'


def shorten_file_names(body: bytes, boundary: bytes) -> bytes:
    """``body`` with any file name longer than MAX_FILE_NAME in a part's headers shortened (extension kept)."""
    delimiter = b"--" + boundary
    position = body.find(delimiter)
    long_headers = False
    while position != -1:
        end = body.find(b"\r\n\r\n", position)
        if end != -1 and end - position > _LONG_HEADERS:
            long_headers = True
            break
        position = body.find(delimiter, position + len(delimiter))
    if not long_headers:
        return body
    parts = body.split(delimiter)
    for index in range(1, len(parts)):
        part = parts[index]
        end = part.find(b"\r\n\r\n")
        if end > _LONG_HEADERS:
            parts[index] = _FILE_NAME.sub(_short_name, part[:end]) + part[end:]
    return delimiter.join(parts)


class BoundedUploadHandler(FileUploadHandler):
    """Small bodies in memory (long file names shortened); large ones to a temporary file that stops at the limit."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length is None or content_length > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            return None  # a large body: streamed to new_file / receive_data_chunk below
        body = shorten_file_names(input_data.read(content_length), boundary)
        parser = MultiPartParser(
            {**META, "CONTENT_LENGTH": str(len(body))},
            io.BytesIO(body),
            [MemoryFileUploadHandler(self.request)],
            encoding,
        )
        return parser.parse()

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        # A neutral name for the temporary file (Django builds its suffix from the name's extension, which a crafted
        # request can make longer than the file system allows); the person's name goes on the upload object.
        self.file = TemporaryUploadedFile("upload", self.content_type, 0, self.charset, self.content_type_extra)
        self.file.name = self.file_name

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.file is None:
            return None
        if self.received > settings.DSAR_MAX_DOCUMENT_BYTES:
            self._discard()
            return None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        if self.file is None:
            return OversizedUpload(self.file_name, self.content_type, file_size, self.charset)
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if getattr(self, "file", None) is not None:
            self._discard()

    def _discard(self) -> None:
        # A named temporary file is removed when closed.
        self.file.close()
        self.file = None
