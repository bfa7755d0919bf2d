from django.urls import path

from . import views

app_name = "agents"

urlpatterns = [
    path("agents/", views.dashboard, name="dashboard"),
    path("agents/sign-up/", views.sign_up, name="sign_up"),
    path("agents/confirm-email/", views.confirm_email, name="confirm_email"),
    path("agents/sign-in/", views.sign_in, name="sign_in"),
    path("agents/sign-in/code/", views.second_factor, name="second_factor"),
    path("agents/sign-out/", views.sign_out, name="sign_out"),
    path("agents/security/", views.security, name="security"),
    path("agents/request/<slug:right>/", views.request_create, name="request_create"),
    path("agents/requests/<str:reference>/", views.request_open, name="request_open"),
]
