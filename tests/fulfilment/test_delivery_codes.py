"""Helpers shared by the delivery tests: the code in an e-mail, a streamed download's bytes."""

import re


def code_from(email) -> str:
    found = re.search(r"^\s+(\d{6})\s*$", email.body, re.MULTILINE)
    assert found, f"no download code in the e-mail:\n{email.body}"
    return found.group(1)


def read_download(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content
