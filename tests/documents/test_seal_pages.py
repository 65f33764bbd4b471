"""版头模板, 电子印章 and verification pages, as the office, the seal keeper and readers use them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from documents import sealing
from documents.letterheads import create_letterhead
from documents.models import Layout, Letterhead, Seal, SealApplication
from officeapp.blobs.backends import get_backend
from officeapp.registries import blob_referrers
from tests.documents.factories import make_document
from tests.documents.sealkeepers import FakeRenderer, at_seal_step, make_seal_keeper


@pytest.fixture(autouse=True)
def _seal_referrers() -> Iterator[None]:
    """The referrers documents/apps.py registers; registered here too until that line lands."""
    added = []
    for referrer in (sealing.SealImageReferrer(), sealing.SealedFileReferrer()):
        if referrer.name not in blob_referrers:
            blob_referrers.register(referrer.name, referrer)
            added.append(referrer.name)
    yield
    for name in added:
        blob_referrers.unregister(name)


@pytest.fixture
def renderer(monkeypatch: pytest.MonkeyPatch) -> FakeRenderer:
    fake = FakeRenderer()
    monkeypatch.setattr(sealing, "_render_pdf", fake)
    return fake


@pytest.fixture
def sealed(cast: Any, renderer: FakeRenderer) -> SealApplication:
    """A 通知 of the 省府办公厅 sealed by its 印章管理员."""
    sealing.create_seal(cast.gov_office, actor=cast.office_director)
    keeper = make_seal_keeper(cast, cast.gov_office)
    document = at_seal_step(make_document(cast))
    return sealing.authorise_seal(document, actor=keeper)


def _letterhead(cast: Any, name: str = "办公厅文件") -> Letterhead:
    return create_letterhead(
        cast.gov_office,
        actor=cast.office_secretary,
        name=name,
        mark_text="广东省人民政府办公厅文件",
        number_prefix="粤府办",
    )


def _stored(application: SealApplication) -> bytes:
    return b"".join(sealing.open_blob(application.sealed_blob))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (200, 0, 0)).save(out, format="JPEG")
    return out.getvalue()


# --- 版头模板 ------------------------------------------------------------------------------------------


def test_the_office_sees_its_letterheads(cast: Any, sign_in: Any) -> None:
    _letterhead(cast)

    response = sign_in(cast.office_secretary).get(reverse("documents:letterheads", args=[cast.gov_office.pk]))

    assert response.status_code == 200
    assert "广东省人民政府办公厅文件" in response.content.decode()
    assert "默认" in response.content.decode()


def test_a_drafter_may_not_open_the_letterheads_page(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.drafter).get(reverse("documents:letterheads", args=[cast.gov_office.pk]))

    assert response.status_code == 403


def test_another_agencys_office_may_not_keep_our_letterheads(cast: Any, sign_in: Any) -> None:
    letterhead = _letterhead(cast)
    client = sign_in(cast.outsider)

    assert client.get(reverse("documents:letterheads", args=[cast.gov_office.pk])).status_code == 403
    assert client.get(reverse("documents:letterhead_edit", args=[letterhead.pk])).status_code == 403
    assert client.get(reverse("documents:letterheads", args=[999999])).status_code == 404


def test_the_office_home_link_opens_the_own_agencys_letterheads(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_director).get(reverse("documents:office_home"))

    assert response.status_code == 302
    assert response.url == reverse("documents:letterheads", args=[cast.gov_office.pk])


def test_the_office_home_link_takes_the_seal_keeper_to_the_seals(cast: Any, client: Any) -> None:
    from documents.views.seals import shows_office_link

    keeper = make_seal_keeper(cast, cast.gov_office)
    client.force_login(keeper, backend="officeapp.accounts.backends.LockoutAwareBackend")

    response = client.get(reverse("documents:office_home"))

    assert response.url == reverse("documents:seals", args=[cast.gov_office.pk])
    assert shows_office_link(keeper)
    assert shows_office_link(cast.office_secretary)
    assert not shows_office_link(cast.drafter)
    assert not shows_office_link(cast.outsider)


def test_creating_a_letterhead_through_the_form(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).post(
        reverse("documents:letterhead_create", args=[cast.gov_office.pk]),
        {
            "name": "办公厅函",
            "layout": Layout.LETTER,
            "mark_text": "广东省人民政府办公厅",
            "number_prefix": "粤府办函",
        },
    )

    assert response.status_code == 302
    letterhead = Letterhead.objects.get(agency=cast.gov_office, name="办公厅函")
    assert letterhead.layout == Layout.LETTER
    assert letterhead.is_default


def test_a_bad_number_prefix_is_refused_and_what_was_typed_is_kept(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).post(
        reverse("documents:letterhead_create", args=[cast.gov_office.pk]),
        {
            "name": "我的新模板",
            "layout": Layout.STANDARD,
            "mark_text": "新标志文件",
            "number_prefix": "粤府办〔2026〕",
        },
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "G14" in page
    assert "我的新模板" in page and "新标志文件" in page
    assert not Letterhead.objects.filter(name="我的新模板").exists()


def test_editing_a_letterhead(cast: Any, sign_in: Any) -> None:
    letterhead = _letterhead(cast)

    response = sign_in(cast.office_director).post(
        reverse("documents:letterhead_edit", args=[letterhead.pk]),
        {
            "name": letterhead.name,
            "layout": Layout.STANDARD,
            "mark_text": "广东省人民政府办公厅文件（新）",
            "number_prefix": "粤府办",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    letterhead.refresh_from_db()
    assert letterhead.mark_text == "广东省人民政府办公厅文件（新）"


def test_setting_the_default_from_the_list(cast: Any, sign_in: Any) -> None:
    first = _letterhead(cast)
    second = _letterhead(cast, "办公厅文件（二）")

    response = sign_in(cast.office_secretary).post(reverse("documents:letterhead_default", args=[second.pk]))

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default


def test_a_drafter_may_not_set_the_default(cast: Any, sign_in: Any) -> None:
    _letterhead(cast)
    second = _letterhead(cast, "办公厅文件（二）")

    response = sign_in(cast.drafter).post(reverse("documents:letterhead_default", args=[second.pk]))

    assert response.status_code == 403
    second.refresh_from_db()
    assert not second.is_default


# --- 电子印章 -------------------------------------------------------------------------------------------


def test_the_office_generates_a_seal_and_sees_its_image(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.office_director)

    response = client.post(
        reverse("documents:seal_create", args=[cast.gov_office.pk]), {"name": "", "source": "generate"}
    )

    assert response.status_code == 302
    seal = Seal.objects.get(agency=cast.gov_office, is_active=True)
    page = client.get(reverse("documents:seals", args=[cast.gov_office.pk])).content.decode()
    image_url = reverse("blobs:download", args=[seal.image_id, "seal.png"])
    assert image_url in page
    assert seal.fingerprint in page
    image = client.get(image_url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"


def test_an_outsider_cannot_download_a_seal_image(cast: Any, sign_in: Any) -> None:
    seal = sealing.create_seal(cast.gov_office, actor=cast.office_director)

    response = sign_in(cast.outsider).get(reverse("blobs:download", args=[seal.image_id, "seal.png"]))

    assert response.status_code == 404


def test_an_uploaded_jpeg_seal_is_refused_and_the_name_is_kept(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).post(
        reverse("documents:seal_create", args=[cast.gov_office.pk]),
        {"name": "办公厅公章", "source": "upload", "image": SimpleUploadedFile("公章.jpg", _jpeg())},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "PNG" in page
    assert "办公厅公章" in page
    assert not Seal.objects.exists()


def test_choosing_upload_without_a_file_asks_for_one(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).post(
        reverse("documents:seal_create", args=[cast.gov_office.pk]), {"name": "", "source": "upload"}
    )

    assert response.status_code == 400
    assert "请选择一个 PNG 文件" in response.content.decode()


def test_the_seal_keeper_sees_the_seals_but_may_not_make_one(cast: Any, client: Any) -> None:
    sealing.create_seal(cast.gov_office, actor=cast.office_director)
    keeper = make_seal_keeper(cast, cast.gov_office)
    client.force_login(keeper, backend="officeapp.accounts.backends.LockoutAwareBackend")

    assert client.get(reverse("documents:seals", args=[cast.gov_office.pk])).status_code == 200
    assert client.get(reverse("documents:seal_create", args=[cast.gov_office.pk])).status_code == 403


def test_a_drafter_may_not_see_or_make_seals(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.drafter)

    assert client.get(reverse("documents:seals", args=[cast.gov_office.pk])).status_code == 403
    response = client.post(
        reverse("documents:seal_create", args=[cast.gov_office.pk]), {"source": "generate"}
    )
    assert response.status_code == 403
    assert not Seal.objects.exists()


# --- verification ---------------------------------------------------------------------------------------


def test_the_verification_page_shows_a_valid_signature(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    response = sign_in(cast.drafter).get(reverse("documents:verify", args=[sealed.document_id]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "签名有效" in page
    assert "广东省人民政府办公厅" in page
    assert sealed.digest in page
    assert reverse("blobs:download", args=[sealed.sealed_blob_id, "盖章文件.pdf"]) in page


def test_the_verification_page_shows_a_changed_file_as_invalid(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    stored = bytearray(_stored(sealed))
    stored[5] ^= 0x01
    path = get_backend()._path(sealed.sealed_blob.key)  # type: ignore[attr-defined]
    path.chmod(0o644)
    path.write_bytes(bytes(stored))

    response = sign_in(cast.drafter).get(reverse("documents:verify", args=[sealed.document_id]))

    page = response.content.decode()
    assert "验证未通过" in page
    assert "已被改动" in page
    assert "签名有效" not in page


def test_an_outsider_gets_404_for_the_verification_page_and_api(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    client = sign_in(cast.outsider)

    assert client.get(reverse("documents:verify", args=[sealed.document_id])).status_code == 404
    assert client.get(reverse("documents:verify_api", args=[sealed.document_id])).status_code == 404


def test_the_verification_api_gives_the_same_facts_as_json(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    response = sign_in(cast.office_secretary).get(reverse("documents:verify_api", args=[sealed.document_id]))

    data = response.json()
    assert response.status_code == 200
    assert data["valid"] is True
    assert data["sealed"] is True
    (signature,) = data["signatures"]
    assert signature["agency"] == "广东省人民政府办公厅"
    assert signature["digest"] == sealed.digest
    assert signature["algorithm"] == "ECDSA-P256-SHA256"
    assert signature["signed_at"].endswith("+08:00")


def test_an_unsealed_document_says_there_is_nothing_to_verify(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    client = sign_in(cast.drafter)

    page = client.get(reverse("documents:verify", args=[document.pk])).content.decode()
    data = client.get(reverse("documents:verify_api", args=[document.pk])).json()

    assert "尚未用印" in page
    assert data == {
        "document": document.pk,
        "doc_number": "",
        "sealed": False,
        "valid": False,
        "signatures": [],
    }


def test_the_sealed_pdf_downloads_for_a_reader_and_not_for_an_outsider(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    url = reverse("blobs:download", args=[sealed.sealed_blob_id, "盖章文件.pdf"])

    assert sign_in(cast.drafter).get(url).status_code == 200
    assert sign_in(cast.outsider).get(url).status_code == 404


def test_uploading_the_sealed_file_verifies_it_and_links_the_document(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    response = sign_in(cast.drafter).post(
        reverse("documents:verify_upload"), {"file": SimpleUploadedFile("收到的文件.pdf", _stored(sealed))}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "签名有效" in page
    assert reverse("documents:detail", args=[sealed.document_id]) in page


def test_someone_who_may_not_see_the_document_learns_who_sealed_but_gets_no_link(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    response = sign_in(cast.outsider).post(
        reverse("documents:verify_upload"), {"file": SimpleUploadedFile("收到的文件.pdf", _stored(sealed))}
    )

    page = response.content.decode()
    assert "签名有效" in page
    assert reverse("documents:detail", args=[sealed.document_id]) not in page


def test_uploading_a_changed_file_says_it_is_not_a_sealed_file_of_this_platform(
    cast: Any, sign_in: Any, sealed: SealApplication
) -> None:
    changed = bytearray(_stored(sealed))
    changed[-8] ^= 0x01

    response = sign_in(cast.drafter).post(
        reverse("documents:verify_upload"), {"file": SimpleUploadedFile("收到的文件.pdf", bytes(changed))}
    )

    assert response.status_code == 400
    assert "不是本平台生成的盖章文件，或文件已被改动" in response.content.decode()


def test_the_document_panel_lists_the_seals_and_links_to_verification(
    cast: Any, rf: Any, sealed: SealApplication
) -> None:
    from documents.views.seals import seal_panel

    request = rf.get("/")
    request.user = cast.drafter

    html = seal_panel(request, sealed.document)

    assert "广东省人民政府办公厅" in html
    assert reverse("documents:verify", args=[sealed.document_id]) in html
    assert seal_panel(request, make_document(cast)) == ""
