from django.urls import path

from officeapp.org import views

app_name = "org"
urlpatterns = [
    path("directory/", views.directory_home, name="directory"),
    path("directory/search/", views.directory_search, name="directory_search"),
    path("directory/people/", views.people_lookup, name="people_lookup"),
    path("directory/agencies/<int:agency_id>/", views.directory_agency, name="directory_agency"),
    path(
        "directory/departments/<int:department_id>/", views.directory_department, name="directory_department"
    ),
    path("people/<int:user_id>/", views.person, name="person"),
    path("manage/", views.manage, name="manage"),
    path("manage/template.xlsx", views.import_template, name="import_template"),
    path("manage/agencies/<int:agency_id>/", views.manage_agency, name="manage_agency"),
    path("manage/agencies/<int:agency_id>/children/", views.manage_children, name="manage_children"),
    path("manage/agencies/<int:agency_id>/edit/", views.agency_edit, name="agency_edit"),
    path("manage/agencies/<int:agency_id>/agencies/new/", views.agency_create, name="agency_create"),
    path("manage/positions/", views.positions, name="positions"),
    path(
        "manage/agencies/<int:agency_id>/departments/new/", views.department_create, name="department_create"
    ),
    path("manage/agencies/<int:agency_id>/users/new/", views.user_create, name="user_create"),
    path("manage/agencies/<int:agency_id>/import/", views.org_import, name="import"),
    path("manage/agencies/<int:agency_id>/export/", views.org_export, name="export"),
    path("manage/agencies/<int:agency_id>/portfolios/", views.portfolios, name="portfolios"),
    path("manage/portfolios/<int:portfolio_id>/remove/", views.portfolio_remove, name="portfolio_remove"),
    path("manage/departments/<int:department_id>/edit/", views.department_edit, name="department_edit"),
    path("manage/users/<int:user_id>/edit/", views.user_edit, name="user_edit"),
    path("manage/users/<int:user_id>/posts/", views.concurrent_post_add, name="concurrent_post_add"),
    path("manage/posts/<int:post_id>/remove/", views.concurrent_post_remove, name="concurrent_post_remove"),
    path("manage/users/<int:user_id>/disable/", views.user_disable, name="user_disable"),
    path("manage/users/<int:user_id>/enable/", views.user_enable, name="user_enable"),
    path("manage/users/<int:user_id>/transfer/", views.user_transfer, name="user_transfer"),
    path("manage/users/<int:user_id>/reset-password/", views.user_reset_password, name="user_reset_password"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:delegation_id>/revoke/", views.delegation_revoke, name="delegation_revoke"),
]
