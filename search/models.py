"""What search keeps in the project database besides the index itself.

`ExtractedText`: the text of an attachment file, extracted once per stored content (keyed by the
blob's sha256, so the same file attached to a 发文 and to each recipient's 收文 is read once).
The index (embedded file or Elasticsearch) can be rebuilt from the database at any time; keeping
the extracted text here means a rebuild does not read every file again.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ExtractionStatus(models.TextChoices):
    OK = "ok", "已提取"
    TOO_LARGE = "too_large", "文件过大，未提取"
    TIMEOUT = "timeout", "提取超时"
    FAILED = "failed", "提取失败"
    UNSUPPORTED = "unsupported", "不支持的文件类型"


class ExtractedText(models.Model):
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    text = models.TextField("文本", blank=True)
    status = models.CharField("状态", max_length=12, choices=ExtractionStatus.choices)
    detail = models.CharField("说明", max_length=300, blank=True)
    extracted_at = models.DateTimeField("提取时间", default=timezone.now)

    class Meta:
        verbose_name = "附件文本"
        verbose_name_plural = "附件文本"

    def __str__(self) -> str:
        return f"{self.sha256[:12]}（{self.get_status_display()}）"
