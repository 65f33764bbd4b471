"""The 公文交换 part of `load_demo` (key "25-exchange", after the 发文 demo): what happened to the
documents 省政府办公厅 distributed, driven through the real services by the people who would act.

- 补发 of the 防汛 notice to more agencies; 省教育厅's 收发员 returns it (退文, with a reason);
- 补发 to 深圳市府办, withdrawn (撤回) for a wrong list, then sent again;
- 省应急管理厅 has not signed: huang.lihua urges it (催办);
- 广州市府办 signs and forwards (转发) it to two district offices, 越秀区 signs, 天河区 not yet;
- li.guohua (省财政厅 收发员) keeps several documents in his 待签收 — none signed here (the 收文
  demo signs some of them later).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from documents.exchange import (
    clerks_of,
    forward,
    receive,
    resend,
    return_document,
    urge_recipient,
    withdraw,
)
from documents.models import ExchangeRecord, ExchangeState, OfficialDocument, ReturnReason
from officeapp.org.models import Agency, User


def _agency(code: str) -> Agency | None:
    return Agency.objects.filter(code=code).first()


def _clerk(agency: Agency) -> User | None:
    return clerks_of([agency.pk]).order_by("pk").first()


class ExchangeDemo:
    def __init__(self, stdout: Callable[[str], Any]) -> None:
        self.say = stdout
        self.office = _agency("GD-BGT")
        self.secretary = User.objects.filter(username="huang.lihua").first()
        self.done: list[str] = []

    def distributed(self) -> list[OfficialDocument]:
        return list(
            OfficialDocument.objects.filter(agency=self.office, exchange_records__isnull=False)
            .distinct()
            .order_by("pk")
        )

    def record(self, document: OfficialDocument, agency: Agency) -> ExchangeRecord:
        return ExchangeRecord.objects.get(document=document, recipient=agency)

    def returned(self, document: OfficialDocument) -> None:
        education = Agency.objects.filter(name="广东省教育厅").first()
        clerk = _clerk(education) if education else None
        if education is None or clerk is None:
            return
        resend(document, actor=self.secretary, agencies=[education])
        return_document(
            self.record(document, education),
            actor=clerk,
            reason=ReturnReason.WRONG_RECIPIENT,
            note="我厅不在本文主送、抄送范围内，系误发，请核实分发范围。",
        )
        self.done.append("省教育厅退文")

    def withdrawn_and_resent(self, document: OfficialDocument) -> None:
        shenzhen = _agency("GD-SZ-BGS")
        if shenzhen is None:
            return
        resend(document, actor=self.secretary, agencies=[shenzhen])
        withdraw(
            self.record(document, shenzhen), actor=self.secretary, reason="附件版本有误，更正后重新分发。"
        )
        resend(document, actor=self.secretary, agencies=[shenzhen])
        self.done.append("深圳市府办撤回后补发")

    def urged(self, document: OfficialDocument) -> None:
        emergency = Agency.objects.filter(name="广东省应急管理厅").first()
        if emergency is None:
            return
        record = ExchangeRecord.objects.filter(
            document=document, recipient=emergency, state=ExchangeState.PENDING
        ).first()
        if record is None:
            return
        urge_recipient(record, actor=self.secretary, note="汛期将至，请尽快签收并落实各项防汛防台风措施。")
        self.done.append("催办省应急管理厅")

    def forwarded(self, document: OfficialDocument) -> None:
        guangzhou = _agency("GD-GZ-BGS")
        districts = [a for a in (_agency("GD-GZ-YX-BGS"), _agency("GD-GZ-TH-BGS")) if a is not None]
        city_clerk = _clerk(guangzhou) if guangzhou else None
        if guangzhou is None or city_clerk is None or len(districts) < 2:
            return
        resend(document, actor=self.secretary, agencies=[guangzhou])
        to_city = self.record(document, guangzhou)
        receive(to_city, actor=city_clerk)
        forward(to_city, actor=city_clerk, agencies=districts)
        yuexiu_clerk = _clerk(districts[0])
        if yuexiu_clerk is not None:
            receive(self.record(document, districts[0]), actor=yuexiu_clerk)
        self.done.append("广州市府办转发越秀区、天河区")

    def more_for_finance(self, documents: list[OfficialDocument]) -> None:
        """li.guohua's 待签收 gets one more document (补发), so several wait for him."""
        finance = Agency.objects.filter(name="广东省财政厅").first()
        if finance is None:
            return
        for document in documents:
            if not ExchangeRecord.objects.filter(document=document, recipient=finance).exists():
                resend(document, actor=self.secretary, agencies=[finance])
                self.done.append(f"补发省财政厅：{document.title}")
                return

    def build(self) -> str:
        if self.office is None or self.secretary is None:
            return ""
        documents = self.distributed()
        if not documents:
            return ""
        main = next((d for d in documents if "防汛" in d.title), documents[0])
        for step in (self.returned, self.withdrawn_and_resent, self.urged, self.forwarded):
            with transaction.atomic():
                step(main)
        with transaction.atomic():
            self.more_for_finance([d for d in documents if d.pk != main.pk])
        waiting = ExchangeRecord.objects.filter(
            recipient__name="广东省财政厅", state=ExchangeState.PENDING
        ).count()
        return f"公文交换：{'；'.join(self.done)}；李国华（省财政厅）待签收 {waiting} 件。"


def build_exchange_demo(stdout: Callable[[str], Any]) -> str:
    return ExchangeDemo(stdout).build()
