from django.urls import path

from officeapp.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("password/", views.change_password, name="change_password"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("two-factor/verify/", views.verify_otp, name="verify_otp"),
    path("security/", views.security, name="security"),
    path("security/grants/", views.security_grant, name="security_grant"),
    path("security/grants/<int:grant_id>/revoke/", views.security_revoke, name="security_revoke"),
    path("security/reset-totp/", views.security_reset_totp, name="security_reset_totp"),
    path("security/directory-policy/", views.security_policy, name="security_policy"),
    # 统一身份认证 (OIDC relying party): 404 unless OIDC_RP_CLIENT_ID is set.
    path("oidc/authenticate/", views.oidc_sign_in, name="oidc_sign_in"),
    path("oidc/callback/", views.oidc_callback, name="oidc_callback"),
]
