"""Pages of the flows, under /workflows/: the task pages, the unified inbox, 效能统计."""

from workflows.views import efficiency, inbox, tasks

app_name = "workflows"

urlpatterns = [
    *tasks.urlpatterns,  # one page per task of the 发文 flow, 发文处理单, process management
    *inbox.urlpatterns,  # 待办 / 已办 / 办结
    *efficiency.urlpatterns,  # 效能统计
]
