from django.db import models


class EmailConfirmation(models.Model):
    """A one-time code proving the requester controls the e-mail address they gave.

    Only a keyed hash of the code is stored; a code is single use, expires in
    minutes and allows a handful of attempts. Issuing a new code retires the
    earlier ones.
    """

    request = models.ForeignKey(
        "requests_app.DataSubjectRequest", on_delete=models.CASCADE, related_name="email_confirmations"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"e-mail confirmation for {self.request_id}"
