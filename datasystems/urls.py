from django.urls import path

from . import views

app_name = "datasystems"

# Mounted under staff/systems/ (dsar_portal.urls).
urlpatterns = [
    path("", views.system_list, name="system_list"),
    path("new/", views.system_edit, name="system_new"),
    path("<int:system_id>/", views.system_detail, name="system_detail"),
    path("<int:system_id>/edit/", views.system_edit, name="system_edit"),
    path("<int:system_id>/purposes/", views.purpose_add, name="purpose_add"),
    path("<int:system_id>/purposes/<int:item_id>/remove/", views.purpose_remove, name="purpose_remove"),
    path("<int:system_id>/recipients/", views.recipient_link, name="recipient_link"),
    path("<int:system_id>/recipients/<int:item_id>/remove/", views.recipient_unlink, name="recipient_unlink"),
    path("<int:system_id>/transfers/", views.transfer_add, name="transfer_add"),
    path("<int:system_id>/transfers/<int:item_id>/remove/", views.transfer_remove, name="transfer_remove"),
    path("recipients/", views.recipient_list, name="recipient_list"),
    path("recipients/new/", views.recipient_edit, name="recipient_new"),
    path("recipients/<int:recipient_id>/", views.recipient_edit, name="recipient_edit"),
    path("privacy-notice/", views.notice_publish, name="notice_publish"),
]
