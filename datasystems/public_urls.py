from django.urls import path

from . import views

app_name = "privacy_notice"

# The public privacy notice generated from the register (the portal's own notice is identity's /privacy/).
urlpatterns = [
    path("privacy-notice/", views.public_notice, name="latest"),
    path("privacy-notice/versions/<int:number>/", views.public_notice, name="version"),
]
