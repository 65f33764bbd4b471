from django.urls import path

from officeapp.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:notification_id>/read", views.mark_read, name="mark_read"),
    path("read-all", views.mark_all_read, name="mark_all_read"),
]
