from django.db import models


class Submission(models.Model):
    """One row per baseline submission: plain columns, no encryption, no side effects."""

    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    right = models.CharField(max_length=20)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"baseline submission {self.pk}"
