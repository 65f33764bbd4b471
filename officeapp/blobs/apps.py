from django.apps import AppConfig


class BlobsConfig(AppConfig):
    name = "officeapp.blobs"
    label = "blobs"
    verbose_name = "文件存储"
