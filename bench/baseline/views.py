"""The baseline: validate a form, insert one row, redirect. Nothing else."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import SubmissionForm
from .models import Submission


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SubmissionForm(request.POST)
        if form.is_valid():
            Submission.objects.create(**form.cleaned_data)
            return redirect("bench_baseline:done")
        return render(request, "bench_baseline/form.html", {"form": form}, status=400)
    return render(request, "bench_baseline/form.html", {"form": SubmissionForm()})


def done(request: HttpRequest) -> HttpResponse:
    return HttpResponse("thank you", content_type="text/plain")
