from django.urls import path

from officeapp.blobs import views

app_name = "blobs"
urlpatterns = [
    # <ref> is the blob's id or its SHA-256; <filename> is what the browser saves it as.
    path("<str:ref>/<str:filename>", views.download, name="download"),
]
