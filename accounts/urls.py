"""Routes of the accounts pages (the sign-up, log-in and password pages are django-allauth's, under the same
/accounts/ prefix)."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("organisation/new/", views.organisation_create, name="organisation_create"),
    path("organisation/", views.organisation_settings, name="organisation_settings"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.colleague_invite_create, name="colleague_invite"),
    path("members/<int:user_id>/role/", views.member_role, name="member_role"),
    path("members/<int:user_id>/remove/", views.member_delete, name="member_remove"),
    path(
        "members/invitations/<uuid:invitation_id>/revoke/",
        views.colleague_invitation_delete,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<uuid:api_key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
]
