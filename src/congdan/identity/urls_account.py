"""Identity URLs (account): registration, login, password reset, the citizen's pages."""

from django.urls import URLPattern, URLResolver, path

from congdan.identity.views import account

urlpatterns: list[URLPattern | URLResolver] = [
    path("id/register/", account.register, name="register"),
    path("id/register/verify/", account.register_verify, name="register_verify"),
    path("id/login/", account.login, name="login"),
    path("id/login/verify/", account.login_verify, name="login_verify"),
    path("id/password/reset/", account.password_reset, name="password_reset"),
    path(
        "id/password/reset/verify/",
        account.password_reset_verify,
        name="password_reset_verify",
    ),
    path("me/", account.me, name="me"),
    path("me/portrait/", account.my_portrait, name="my_portrait"),
    path("me/report-error/", account.report_error, name="report_error"),
    path("me/report-error/<int:pk>/", account.report_error_sent, name="report_error_sent"),
    path("me/security/", account.security, name="security"),
    path("me/security/password/", account.change_password, name="change_password"),
    path("me/security/lock/", account.lock_account, name="lock_account"),
    path(
        "me/security/sessions/<int:pk>/revoke/",
        account.revoke_session,
        name="revoke_session",
    ),
    path("me/security/totp/", account.totp_setup, name="totp_setup"),
]
