"""Pages of the documents app, under /documents/. Each area keeps its patterns beside its views."""

from documents.views import exchange, pages, seals, versions

app_name = "documents"

urlpatterns = [
    *pages.urlpatterns,  # 我的公文, 拟稿, the document page
    *versions.urlpatterns,  # versions, 痕迹 diff, attachments, previews, 文号 register
    *seals.urlpatterns,  # 版头模板, 电子印章, signature verification
    *exchange.urlpatterns,  # 待签收, distribution status, archive
]
