from django.urls import path

from . import views_decisions as views

app_name = "decisions"

# Mounted under staff/requests/ (dsar_portal.urls), beside the case page.
urlpatterns = [
    # GDPR Art. 18: a restriction started, its notice before lifting, its lifting, an exception used.
    path("<str:reference>/restriction/", views.restriction_start, name="restriction_start"),
    path(
        "<str:reference>/restrictions/<int:restriction_id>/notice/",
        views.restriction_notice,
        name="restriction_notice",
    ),
    path("<str:reference>/restrictions/<int:restriction_id>/lift/", views.restriction_lift, name="restriction_lift"),
    path(
        "<str:reference>/restrictions/<int:restriction_id>/exceptions/",
        views.restriction_exception,
        name="restriction_exception",
    ),
    # GDPR Art. 21(1), 21(6): restriction while assessed (Art. 18(1)(d)) and the DPO's decision.
    path("<str:reference>/objection/restrict/", views.objection_restrict, name="objection_restrict"),
    path("<str:reference>/objection/decision/", views.objection_decide, name="objection_decide"),
    # GDPR Art. 16: the rectification decision.
    path("<str:reference>/rectification/decision/", views.rectification_decide, name="rectification_decide"),
]
