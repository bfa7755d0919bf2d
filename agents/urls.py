from django.urls import path

from . import views

app_name = "agents"

urlpatterns = [
    path("agents/", views.dashboard, name="dashboard"),
    path("agents/sign-up/", views.sign_up, name="sign_up"),
    path("agents/confirm-email/", views.confirm_email, name="confirm_email"),
    path("agents/confirm-email/new-code/", views.confirm_email_resend, name="confirm_email_resend"),
    path("agents/sign-in/", views.sign_in, name="sign_in"),
    path("agents/sign-in/code/", views.second_factor, name="second_factor"),
    path("agents/sign-out/", views.sign_out, name="sign_out"),
    path("agents/password-reset/", views.password_reset, name="password_reset"),
    path("agents/password-reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path("agents/password-reset/new/", views.password_reset_new, name="password_reset_new"),
    path("agents/password-reset/<str:token>/", views.password_reset_link, name="password_reset_link"),
    path("agents/security/", views.security, name="security"),
    path("agents/security/confirm/", views.reauthenticate, name="reauthenticate"),
    path("agents/security/recovery-codes/", views.recovery_codes_new, name="recovery_codes_new"),
    path("agents/request/<slug:right>/", views.request_create, name="request_create"),
    path("agents/requests/<str:reference>/", views.request_open, name="request_open"),
]
