from django.urls import path

from officeapp.calendar import views

app_name = "calendar"
urlpatterns = [
    path("", views.manage, name="manage"),
    path("days/add/", views.add_day, name="add_day"),
    path("days/<int:pk>/delete/", views.remove_day, name="remove_day"),
    path("years/<int:year>/maintained/", views.mark_year, name="mark_year"),
]
