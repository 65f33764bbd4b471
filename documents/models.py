"""Official documents (公文): the document, its versions, attachments, numbers, seals, exchange.

State changes happen only in services (documents/versions.py, numbering.py, sealing.py,
exchange.py, archiving.py; the 发文 flow's services in workflows/ drive them). A document's
`state` mirrors the step of its 发文 process, so lists and access checks need no join on viewflow.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DocType(models.TextChoices):
    """文种: the 15 types of 《党政机关公文处理工作条例》 第八条 (GB/T 9704 §7)."""

    RESOLUTION = "resolution", "决议"
    DECISION = "decision", "决定"
    ORDER = "order", "命令（令）"
    COMMUNIQUE = "communique", "公报"
    ANNOUNCEMENT = "announcement", "公告"
    PUBLIC_NOTICE = "public_notice", "通告"
    OPINION = "opinion", "意见"
    NOTICE = "notice", "通知"
    CIRCULAR = "circular", "通报"
    REPORT = "report", "报告"
    REQUEST = "request", "请示"
    REPLY = "reply", "批复"
    MOTION = "motion", "议案"
    LETTER = "letter", "函"
    MINUTES = "minutes", "纪要"


# 上行文: addressed to a higher authority; carries 签发人 (G15) and is signed by the 主要负责人.
UPWARD_TYPES = frozenset({DocType.REQUEST, DocType.REPORT, DocType.MOTION})


class Direction(models.TextChoices):
    DOWNWARD = "downward", "下行文"
    PARALLEL = "parallel", "平行文"
    UPWARD = "upward", "上行文"


class Layout(models.TextChoices):
    """The GB/T 9704 format family the renderer uses."""

    STANDARD = "standard", "文件格式"
    LETTER = "letter", "信函格式"
    MINUTES = "minutes", "纪要格式"


class Urgency(models.TextChoices):
    NORMAL = "normal", "平件"
    URGENT = "urgent", "加急"
    EXTRA_URGENT = "extra_urgent", "特急"


class Disclosure(models.TextChoices):
    PUBLIC = "public", "主动公开"
    ON_REQUEST = "on_request", "依申请公开"
    NOT_PUBLIC = "not_public", "不予公开"


class Classification(models.TextChoices):
    NONE = "none", "非密"
    SECRET = "secret", "秘密"
    CONFIDENTIAL = "confidential", "机密"
    TOP_SECRET = "top_secret", "绝密"


class Retention(models.TextChoices):
    """保管期限 set at 归档."""

    PERMANENT = "permanent", "永久"
    YEARS_30 = "30y", "30年"
    YEARS_10 = "10y", "10年"


class DocumentCategory(models.TextChoices):
    """发文: this agency issues it. 收文: this agency received it (by exchange or on paper) and
    keeps its own record of it, with its own process; the sender's document stays the sender's."""

    OUTGOING = "outgoing", "发文"
    INCOMING = "incoming", "收文"


class DocumentState(models.TextChoices):
    """Mirrors the node of the document's process (GLOSSARY.md names), plus the ends."""

    DRAFT = "draft", "拟稿"
    DEPT_REVIEW = "dept_review", "处室审核"
    COUNTERSIGN = "countersign", "会签"
    OFFICE_REVIEW = "office_review", "办公室审核"
    SIGN_OFF = "sign_off", "签发"
    RECHECK = "recheck", "复核"
    ASSIGN_NUMBER = "assign_number", "编号"
    TYPESET = "typeset", "排版校对"
    SEAL = "seal", "用印"
    DISTRIBUTE = "distribute", "分发"
    ARCHIVE = "archive", "待归档"
    ARCHIVED = "archived", "已归档"
    TERMINATED = "terminated", "已终止"
    # 收文 (flows.md §2): the receiving agency's own record follows its process's node. It is made
    # at 签收 (the exchange record's state), so its first state is 登记.
    REGISTER = "register", "登记"
    SCREEN = "screen", "初审"
    PROPOSE = "propose", "拟办"
    INSTRUCT = "instruct", "批办"
    ASSIGN = "assign", "分办"
    HANDLE = "handle", "承办"
    REPLY = "reply", "答复"
    COMPLETE = "complete", "办结"
    RETURNED = "returned", "已退文"


# Until 签发 the text may change at these steps; after it only at 复核 (issue 4).
BODY_EDITABLE_STATES = frozenset(
    {
        DocumentState.DRAFT,
        DocumentState.DEPT_REVIEW,
        DocumentState.COUNTERSIGN,
        DocumentState.OFFICE_REVIEW,
        DocumentState.SIGN_OFF,
        DocumentState.RECHECK,
    }
)
# From 排版 on, 正文 is frozen.
FROZEN_STATES = frozenset(
    {
        DocumentState.TYPESET,
        DocumentState.SEAL,
        DocumentState.DISTRIBUTE,
        DocumentState.ARCHIVE,
        DocumentState.ARCHIVED,
        DocumentState.TERMINATED,
    }
)
# A 收文's text is the sender's: it is never edited by the receiving agency.
INCOMING_STATES = frozenset(
    {
        DocumentState.REGISTER,
        DocumentState.SCREEN,
        DocumentState.PROPOSE,
        DocumentState.INSTRUCT,
        DocumentState.ASSIGN,
        DocumentState.HANDLE,
        DocumentState.REPLY,
        DocumentState.COMPLETE,
        DocumentState.RETURNED,
    }
)


class Letterhead(models.Model):
    """版头模板 kept by an agency's office: the 发文机关标志 and 机关代字 for one format."""

    agency = models.ForeignKey(
        "org.Agency", verbose_name="机关", on_delete=models.PROTECT, related_name="letterheads"
    )
    name = models.CharField("模板名称", max_length=60)
    layout = models.CharField("版式", max_length=12, choices=Layout.choices, default=Layout.STANDARD)
    mark_text = models.CharField("发文机关标志", max_length=60, help_text="如：广东省人民政府办公厅文件")
    number_prefix = models.CharField("机关代字", max_length=20)
    # 联合行文: the 标志 lists every issuing agency's name, "文件" at the right (G13).
    is_joint = models.BooleanField("联合发文版头", default=False)
    is_default = models.BooleanField("默认", default=False)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "版头模板"
        verbose_name_plural = "版头模板"
        ordering = ["agency", "layout", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="letterhead_unique_name"),
            models.UniqueConstraint(
                fields=["agency", "layout", "is_joint"],
                condition=Q(is_default=True),
                name="letterhead_one_default_per_layout",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.mark_text}）"


class OfficialDocument(models.Model):
    """公文: a 发文 this agency issues, or a 收文 it received (`category`). A 收文 is the receiving
    agency's own record: `agency` is the receiving agency, `department` and `drafter` the 收发员 who
    signed for or registered it, and its `IncomingRecord` holds the 收文登记 (来文单位, 收文号 …)."""

    category = models.CharField(
        "类别",
        max_length=10,
        choices=DocumentCategory.choices,
        default=DocumentCategory.OUTGOING,
        db_index=True,
    )
    agency = models.ForeignKey(
        "org.Agency", verbose_name="主办机关", on_delete=models.PROTECT, related_name="documents"
    )
    department = models.ForeignKey(
        "org.Department", verbose_name="拟稿处室", on_delete=models.PROTECT, related_name="documents"
    )
    drafter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="拟稿人",
        on_delete=models.PROTECT,
        related_name="drafted_documents",
    )
    doc_type = models.CharField("文种", max_length=16, choices=DocType.choices, default=DocType.NOTICE)
    direction = models.CharField(
        "行文方向", max_length=10, choices=Direction.choices, default=Direction.DOWNWARD
    )
    layout = models.CharField("版式", max_length=12, choices=Layout.choices, default=Layout.STANDARD)
    letterhead = models.ForeignKey(
        Letterhead, verbose_name="版头", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("标题", max_length=200)
    doc_number = models.CharField("发文字号", max_length=40, blank=True, db_index=True)
    main_recipients = models.ManyToManyField(
        "org.Agency", verbose_name="主送机关", blank=True, related_name="documents_addressed"
    )
    cc_recipients = models.ManyToManyField(
        "org.Agency", verbose_name="抄送机关", blank=True, related_name="documents_copied"
    )
    # A collective name a 主送 line often uses instead of listing agencies ("各地级以上市人民政府").
    main_recipients_text = models.CharField("主送机关（文字）", max_length=300, blank=True)
    urgency = models.CharField("紧急程度", max_length=14, choices=Urgency.choices, default=Urgency.NORMAL)
    disclosure = models.CharField(
        "公开属性", max_length=12, choices=Disclosure.choices, default=Disclosure.NOT_PUBLIC
    )
    classification = models.CharField(
        "密级", max_length=14, choices=Classification.choices, default=Classification.NONE
    )
    secrecy_period = models.CharField("保密期限", max_length=20, blank=True)
    copy_count = models.PositiveIntegerField("印制份数", default=0)
    # 份号 (G10): the serial printed on a copy; classified documents only, 6 digits.
    copy_number = models.CharField("份号", max_length=6, blank=True)
    # 纪要 (G62): who attended, who was on leave, who sat in — names as they are printed.
    minutes_attendees = models.JSONField("出席", default=list, blank=True)
    minutes_on_leave = models.JSONField("请假", default=list, blank=True)
    minutes_observers = models.JSONField("列席", default=list, blank=True)
    signer_names = models.CharField("签发人", max_length=100, blank=True)
    issued_on = models.DateField("成文日期", null=True, blank=True)
    attachment_note = models.TextField("附件说明", blank=True)
    remark = models.CharField("附注", max_length=200, blank=True)
    printed_by = models.ForeignKey(
        "org.Agency",
        verbose_name="印发机关",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    printed_on = models.DateField("印发日期", null=True, blank=True)
    deadline = models.DateField("办理时限", null=True, blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=DocumentState.choices, default=DocumentState.DRAFT, db_index=True
    )
    current_version = models.ForeignKey(
        "DocumentVersion",
        verbose_name="当前版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The version 签发 approved: a change at 复核 is compared with it (substantive → back to the signer).
    signed_version = models.ForeignKey(
        "DocumentVersion",
        verbose_name="签发稿",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    retention = models.CharField("保管期限", max_length=10, choices=Retention.choices, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    # 答复: a 发文 (批复, 函 …) written in reply to a 收文 points at it; the 收文 lists its replies.
    in_reply_to = models.ForeignKey(
        "self",
        verbose_name="答复的来文",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "公文"
        verbose_name_plural = "公文"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["agency", "state", "-created_at"]),
            models.Index(fields=["drafter", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.doc_number or self.title

    @property
    def is_upward(self) -> bool:
        return self.direction == Direction.UPWARD

    @property
    def is_joint(self) -> bool:
        return self.co_issuers.exists()

    @property
    def is_frozen(self) -> bool:
        return self.state in FROZEN_STATES

    @property
    def is_archived(self) -> bool:
        return self.state == DocumentState.ARCHIVED

    @property
    def is_incoming(self) -> bool:
        return self.category == DocumentCategory.INCOMING


class CoIssuer(models.Model):
    """联合发文: an agency issuing with the 主办机关 (which is not listed here). Order = 署名 order."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE, related_name="co_issuers")
    agency = models.ForeignKey(
        "org.Agency", verbose_name="联署机关", on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField("排序", default=1)

    class Meta:
        verbose_name = "联署机关"
        verbose_name_plural = "联署机关"
        ordering = ["document", "order"]
        constraints = [models.UniqueConstraint(fields=["document", "agency"], name="coissuer_unique")]

    def __str__(self) -> str:
        return f"{self.agency}（联署）"


class DocumentVersion(models.Model):
    """One saved revision of 正文 (痕迹保留). Never changed after it is written.

    `body` is structured text: a list of blocks {"kind": "h1"|"h2"|"h3"|"h4"|"p", "text": str};
    h1..h4 are the heading levels 一、 （一） 1. （1） (G24), with the numbering part of the text.
    """

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    body = models.JSONField("正文", default=list)
    source_blob = models.ForeignKey(
        "blobs.Blob",
        verbose_name="上传的 .docx",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", on_delete=models.PROTECT, related_name="+"
    )
    comment = models.CharField("修改说明", max_length=200, blank=True)
    step = models.CharField("修改环节", max_length=16, choices=DocumentState.choices, blank=True)
    restored_from = models.PositiveIntegerField("恢复自版本", null=True, blank=True)
    created_at = models.DateTimeField("保存时间", default=timezone.now)

    class Meta:
        verbose_name = "正文版本"
        verbose_name_plural = "正文版本"
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="version_unique_number")]

    def __str__(self) -> str:
        return f"第{self.number}版"


class Attachment(models.Model):
    """附件: titles and order make the 附件说明 (G25) and the 附件 pages (G32)."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE, related_name="attachments")
    order = models.PositiveSmallIntegerField("序号", default=1)
    title = models.CharField("附件名称", max_length=200)
    blob = models.ForeignKey("blobs.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField("文件名", max_length=200)
    # A PDF rendering for the in-browser preview (made in the worker for .docx/.xlsx attachments).
    preview_blob = models.ForeignKey(
        "blobs.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField("上传时间", default=timezone.now)
    removed_at = models.DateTimeField("删除时间", null=True, blank=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["document", "order", "pk"]

    def __str__(self) -> str:
        return self.title


class RenderKind(models.TextChoices):
    DOCX = "docx", "排版稿（.docx）"
    PDF = "pdf", "版式文件（PDF）"
    SEALED_PDF = "sealed_pdf", "盖章版式文件（PDF）"


class RenderStatus(models.TextChoices):
    PENDING = "pending", "生成中"
    READY = "ready", "已生成"
    FAILED = "failed", "生成失败"


class Rendering(models.Model):
    """A produced file of one version: the GB/T 9704 .docx, its PDF, the sealed PDF."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE, related_name="renderings")
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="renderings")
    kind = models.CharField("类型", max_length=12, choices=RenderKind.choices)
    status = models.CharField(
        "状态", max_length=10, choices=RenderStatus.choices, default=RenderStatus.PENDING
    )
    blob = models.ForeignKey("blobs.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    error = models.CharField("失败原因", max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("请求时间", default=timezone.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "排版文件"
        verbose_name_plural = "排版文件"
        ordering = ["document", "-created_at"]
        indexes = [models.Index(fields=["document", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_status_display()}）"


class NumberSequence(models.Model):
    """The counter behind 发文字号: one row per 机关代字 and year, locked with SELECT … FOR UPDATE."""

    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField("机关代字", max_length=20)
    year = models.PositiveSmallIntegerField("年份")
    last_serial = models.PositiveIntegerField("已用到", default=0)

    class Meta:
        verbose_name = "文号序列"
        verbose_name_plural = "文号序列"
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕"


class NumberState(models.TextChoices):
    RESERVED = "reserved", "预留"
    ASSIGNED = "assigned", "已使用"
    VOIDED = "voided", "已作废"


class DocNumber(models.Model):
    """Every serial ever handed out: assigned, reserved or voided (作废, with reason). Never reused."""

    sequence = models.ForeignKey(NumberSequence, on_delete=models.PROTECT, related_name="numbers")
    serial = models.PositiveIntegerField("序号")
    text = models.CharField("发文字号", max_length=40, unique=True)
    state = models.CharField("状态", max_length=10, choices=NumberState.choices)
    document = models.ForeignKey(
        OfficialDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="numbers"
    )
    reason = models.CharField("预留/作废原因", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("取号时间", default=timezone.now)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)

    class Meta:
        verbose_name = "发文字号"
        verbose_name_plural = "发文字号"
        ordering = ["sequence", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "serial"], name="doc_number_unique_serial"),
            # A document holds at most one live (assigned) number.
            models.UniqueConstraint(
                fields=["document"], condition=Q(state="assigned"), name="doc_number_one_assigned"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Seal(models.Model):
    """电子印章: an agency's seal image and its signing key pair (private key encrypted at rest)."""

    agency = models.ForeignKey(
        "org.Agency", verbose_name="机关", on_delete=models.PROTECT, related_name="seals"
    )
    name = models.CharField("印章名称", max_length=60)
    image = models.ForeignKey("blobs.Blob", verbose_name="印模", on_delete=models.PROTECT, related_name="+")
    algorithm = models.CharField("签名算法", max_length=40, default="ECDSA-P256-SHA256")
    public_key_pem = models.TextField("公钥")
    private_key_encrypted = models.TextField("私钥（加密存储）")
    fingerprint = models.CharField("公钥指纹", max_length=64)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("制作时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "电子印章"
        verbose_name_plural = "电子印章"
        constraints = [
            models.UniqueConstraint(
                fields=["agency"], condition=Q(is_active=True), name="seal_one_active_per_agency"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SealApplication(models.Model):
    """用印: one agency's seal on one sealed file, with the signature over the file's digest."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.PROTECT, related_name="seal_applications")
    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="applications")
    sealed_blob = models.ForeignKey(
        "blobs.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    digest_algorithm = models.CharField("摘要算法", max_length=12, default="SHA-256")
    digest = models.CharField("摘要", max_length=128, blank=True)
    signature = models.TextField("签名（Base64）", blank=True)
    # Joint issue: each agency's seal keeper authorises the use of its seal; the file is made
    # and signed once every issuer has authorised (so every signature covers the final file).
    authorised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    authorised_at = models.DateTimeField("用印时间", default=timezone.now)
    signed_at = models.DateTimeField("签名时间", null=True, blank=True)

    class Meta:
        verbose_name = "用印记录"
        verbose_name_plural = "用印记录"
        ordering = ["document", "authorised_at"]
        constraints = [
            models.UniqueConstraint(fields=["document", "agency"], name="seal_application_once_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.agency} 用印"


class ExchangeKind(models.TextChoices):
    MAIN = "main", "主送"
    CC = "cc", "抄送"


class ExchangeState(models.TextChoices):
    PENDING = "pending", "待签收"
    RECEIVED = "received", "已签收"
    RETURNED = "returned", "已退文"
    WITHDRAWN = "withdrawn", "已撤回"


class ReturnReason(models.TextChoices):
    """退文 reasons offered as a list (the 收发员 or 文秘 adds the particulars as text)."""

    NOT_OURS = "not_ours", "不属于本机关职责范围"
    WRONG_RECIPIENT = "wrong_recipient", "主送或抄送单位有误"
    RULE_BROKEN = "rule_broken", "不符合行文规则"
    WRONG_FORMAT = "wrong_format", "文种使用或公文格式不规范"
    NO_COUNTERSIGN = "no_countersign", "涉及其他部门职权但未会签"
    INCOMPLETE = "incomplete", "附件缺失或内容不全"
    DUPLICATE = "duplicate", "重复发送"
    OTHER = "other", "其他"


class ExchangeRecord(models.Model):
    """公文交换: one per recipient agency, created at 分发. Its `events` are the status history
    (分发, 签收, 退文, 撤回, 补发, 办结); the row holds the current state both sides look at.
    `sender` is the agency that sent it: the issuer, or an agency passing it on (转发) to the
    agencies below it, across levels (province → city → county)."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.PROTECT, related_name="exchange_records")
    sender = models.ForeignKey(
        "org.Agency", verbose_name="发文机关", on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(
        "org.Agency", verbose_name="收文机关", on_delete=models.PROTECT, related_name="incoming_exchanges"
    )
    kind = models.CharField("主送/抄送", max_length=6, choices=ExchangeKind.choices)
    state = models.CharField(
        "状态", max_length=10, choices=ExchangeState.choices, default=ExchangeState.PENDING, db_index=True
    )
    sent_at = models.DateTimeField("分发时间", default=timezone.now)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField("签收时间", null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.CharField("撤回原因", max_length=200, blank=True)
    returned_at = models.DateTimeField("退文时间", null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.CharField("退文理由", max_length=20, choices=ReturnReason.choices, blank=True)
    return_note = models.CharField("退文说明", max_length=500, blank=True)
    # 办结: the recipient finished handling it (its 收文 process reached 办结); the sender sees it.
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    result = models.CharField("办理结果", max_length=500, blank=True)

    class Meta:
        verbose_name = "交换记录"
        verbose_name_plural = "交换记录"
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["document", "recipient"], name="exchange_once_per_recipient")
        ]
        indexes = [
            models.Index(fields=["recipient", "state", "-sent_at"]),
            # A recipient's documents (the 收发员's and an app's reading of documents): index-only.
            models.Index(
                fields=["recipient", "document"],
                name="exchange_open_by_recipient",
                condition=~models.Q(state="withdrawn"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}（{self.get_state_display()}）"


class ExchangeEventKind(models.TextChoices):
    SENT = "sent", "分发"
    RESENT = "resent", "补发"
    RECEIVED = "received", "签收"
    RETURNED = "returned", "退文"
    WITHDRAWN = "withdrawn", "撤回"
    COMPLETED = "completed", "办结"
    URGED = "urged", "催办"


class ExchangeEvent(models.Model):
    """One change of an exchange record, never edited: the 回执 history both sides read."""

    exchange = models.ForeignKey(ExchangeRecord, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事件", max_length=10, choices=ExchangeEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    reason = models.CharField("理由", max_length=20, blank=True)
    note = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "交换事件"
        verbose_name_plural = "交换事件"
        ordering = ["exchange", "at", "pk"]
        indexes = [models.Index(fields=["exchange", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class HandlingKind(models.TextChoices):
    """拟办's classification (flows.md §2 step 4)."""

    FOR_READING = "reading", "阅知性"
    FOR_ACTION = "action", "批办性"


class IncomingRecord(models.Model):
    """收文登记: what the receiving agency records of a 收文 (flows.md §2 step 2).

    Created at 签收 (from the exchange record, prefilled from the sender's document) or by hand for
    a paper document or one from an outside system (`exchange` empty, scanned file as attachment).
    `number` (收文号) is given at 登记, gap-free per agency and year (`IncomingSequence`)."""

    document = models.OneToOneField(OfficialDocument, on_delete=models.CASCADE, related_name="incoming")
    # The receiving agency (the document's `agency`), here for the 收文号's uniqueness and the 登记簿.
    agency = models.ForeignKey(
        "org.Agency", verbose_name="收文机关", on_delete=models.PROTECT, related_name="+"
    )
    exchange = models.OneToOneField(
        ExchangeRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incoming_record",
    )
    source_document = models.ForeignKey(
        OfficialDocument,
        verbose_name="来文",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_copies",
    )
    source_agency = models.ForeignKey(
        "org.Agency",
        verbose_name="来文单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # An outside sender (paper, another system) is named as text.
    source_name = models.CharField("来文单位", max_length=100)
    source_number = models.CharField("来文字号", max_length=40, blank=True)
    copies = models.PositiveIntegerField("份数", default=1)
    received_on = models.DateField("收文日期")
    year = models.PositiveSmallIntegerField("收文年度", null=True, blank=True)
    serial = models.PositiveIntegerField("收文序号", null=True, blank=True)
    number = models.CharField("收文号", max_length=40, blank=True, db_index=True)
    handling_kind = models.CharField("办理类型", max_length=10, choices=HandlingKind.choices, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField("登记时间", null=True, blank=True)
    by_hand = models.BooleanField("手工登记", default=False)
    result = models.TextField("办理结果", blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = "收文登记"
        verbose_name_plural = "收文登记"
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "serial"],
                name="incoming_serial_once",
                condition=Q(serial__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["agency", "-received_on"])]

    def __str__(self) -> str:
        return self.number or self.source_name


class IncomingSequence(models.Model):
    """The counter behind 收文号: one row per receiving agency and year, locked FOR UPDATE, so the
    numbers run 1, 2, 3 … with no gap and no repeat whatever happens at once."""

    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年份")
    last_serial = models.PositiveIntegerField("已用到", default=0)

    class Meta:
        verbose_name = "收文号序列"
        verbose_name_plural = "收文号序列"
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="incoming_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} 收文 {self.year}"


class ParticipantKind(models.TextChoices):
    """Why a user may open a document (access.py reads this table)."""

    DRAFTER = "drafter", "拟稿人"
    HANDLER = "handler", "办理人"  # held or was a candidate for a task of the document's process
    DELEGATE = "delegate", "代理人"
    READER = "reader", "阅知人"


class Participant(models.Model):
    """Who took part in a document's processing. Written by the flows' services when a task is
    created (its owner and candidates), read by documents/access.py: one indexed lookup decides
    whether a person may open the document and its files."""

    document = models.ForeignKey(OfficialDocument, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ParticipantKind.choices)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "办理参与人"
        verbose_name_plural = "办理参与人"
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="participant_once")]
        indexes = [models.Index(fields=["user", "document"])]

    def __str__(self) -> str:
        return f"{self.user}（{self.get_kind_display()}）"
