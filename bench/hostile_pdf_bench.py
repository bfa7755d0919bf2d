"""What a hostile PDF costs the web process: CPU and peak memory, before (parsed in-process) and after (bounded child).

    .venv/bin/python bench/hostile_pdf_bench.py [--pages 99000] [--depth 150] [--array 120000]

Each measurement runs in a fresh process (so peak RSS is that upload's), which loads Django, then either parses the
file with pypdf as the portal used to (``len(PdfReader(...).pages)``) or calls ``documents.validate_document``.
Reported: the web process's CPU seconds and peak RSS growth, the checker child's CPU seconds, and the answer (checked:
the new path must refuse every hostile file with a ValidationError). The last line is one JSON object.
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _measure(case: str, mode: str, args) -> dict:
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_portal.settings")
    import django

    django.setup()
    import logging

    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app import documents
    from tests.hostile_documents import deep_page_tree_pdf, long_array_pdf, many_pages_pdf

    logging.disable(logging.CRITICAL)
    data = {
        "deep_page_tree": lambda: deep_page_tree_pdf(args.depth),
        "long_array": lambda: long_array_pdf(args.array),
        "many_pages": lambda: many_pages_pdf(args.pages),
        "lying_page_count": lambda: many_pages_pdf(args.pages).replace(b"/Count %d" % args.pages, b"/Count 1"),
    }[case]()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    wall_before = time.monotonic()
    if mode == "before":
        from pypdf import PdfReader

        try:
            answer = f"{len(PdfReader(io.BytesIO(data)).pages)} pages"
        except BaseException as error:  # noqa: BLE001 - what escaped to the view (a 500)
            answer = f"uncaught {type(error).__name__}"
    else:
        try:
            answer = documents.validate_document(SimpleUploadedFile("x.pdf", data))
        except ValidationError as error:
            answer = f"refused: {error.messages[0]}"
    return {
        "case": case,
        "mode": mode,
        "bytes": len(data),
        "web_cpu_s": round(time.process_time() - cpu_before, 3),
        "web_peak_rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1),
        "checker_cpu_s": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
            3,
        ),
        "checker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "wall_s": round(time.monotonic() - wall_before, 3),
        "answer": answer,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=99_000)
    parser.add_argument("--depth", type=int, default=150)
    parser.add_argument("--array", type=int, default=120_000)
    parser.add_argument("--one", nargs=2, metavar=("CASE", "MODE"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_measure(*args.one, args)))
        return
    results = []
    for case in ("deep_page_tree", "long_array", "many_pages", "lying_page_count"):
        for mode in ("before", "after"):
            command = [sys.executable, __file__, "--one", case, mode, "--pages", str(args.pages)]
            command += ["--depth", str(args.depth), "--array", str(args.array)]
            finished = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
            result = json.loads(finished.stdout.strip().splitlines()[-1])
            print(f"{case:17} {mode:6} {result}", flush=True)
            results.append(result)
    after = [r for r in results if r["mode"] == "after"]
    assert all(r["answer"].startswith("refused") for r in after), "a hostile file was accepted"
    summary = {
        "before_max_web_cpu_s": max(r["web_cpu_s"] for r in results if r["mode"] == "before"),
        "before_max_web_peak_rss_growth_mb": max(r["web_peak_rss_growth_mb"] for r in results if r["mode"] == "before"),
        "before_uncaught": sum(r["answer"].startswith("uncaught") for r in results if r["mode"] == "before"),
        "after_max_web_cpu_s": max(r["web_cpu_s"] for r in after),
        "after_max_web_peak_rss_growth_mb": max(r["web_peak_rss_growth_mb"] for r in after),
        "after_max_checker_cpu_s": max(r["checker_cpu_s"] for r in after),
        "after_max_checker_peak_rss_mb": max(r["checker_peak_rss_mb"] for r in after),
        "after_max_wall_s": max(r["wall_s"] for r in after),
        "after_refused": len(after),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
