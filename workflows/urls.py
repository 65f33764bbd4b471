"""Pages of the flows, under /workflows/: the task pages of 发文 and 收文, the unified inbox, 传阅,
催办, 督办, 效能统计."""

from workflows.views import (
    circulation,
    efficiency,
    inbox,
    incoming,
    supervision,
    supervision_dashboard,
    tasks,
    urging,
)

app_name = "workflows"

urlpatterns = [
    *tasks.urlpatterns,  # one page per task of the 发文 flow, 发文处理单, process management
    *inbox.urlpatterns,  # 待办 / 已办 / 办结
    *efficiency.urlpatterns,  # 效能统计
    *incoming.urlpatterns,  # 收文: task pages, 收文登记, 收文登记簿, 收文处理单
    *circulation.urlpatterns,  # 传阅: start a circulation, a reader's 待阅 item
    *urging.urlpatterns,  # 催办: the office's open tasks with deadlines, manual 催办
    *supervision.urlpatterns,  # 督办: 立项, items, task pages, reports, 延期, 督办通知单
    *supervision_dashboard.urlpatterns,  # 督办看板, the list behind each bar, Excel export, 月度督办通报
]
