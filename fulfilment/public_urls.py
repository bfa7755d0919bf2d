from django.urls import path

from . import views_delivery

app_name = "delivery"

REFERENCE = "<str:reference>"

# The answer on the requester's status page (secure delivery, issue 12): no secret and no personal data in these
# addresses; the status page's own access opens them, the download needs this browser's code-opened window.
urlpatterns = [
    path(f"status/{REFERENCE}/answer/code/", views_delivery.answer_code_send, name="code_send"),
    path(f"status/{REFERENCE}/answer/enter-code/", views_delivery.answer_code_enter, name="code_enter"),
    path(f"status/{REFERENCE}/answer/download/", views_delivery.answer_download, name="download"),
    path(f"status/{REFERENCE}/answer/further-copy/", views_delivery.answer_further_copy, name="further_copy"),
]
