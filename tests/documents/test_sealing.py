"""电子印章 and 用印: what the office, the seal keeper and anyone verifying a sealed file notice."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from documents import sealing
from documents.errors import DocumentError, RenderFailed, SealRefused
from documents.models import Rendering, RenderKind, RenderStatus, Seal, SealApplication
from officeapp.audit.models import AuditEvent
from officeapp.blobs.backends import BlobStoreUnavailable, get_backend
from officeapp.outbox.models import OutboxEvent
from tests.documents.factories import make_document
from tests.documents.sealkeepers import FakeRenderer, at_seal_step, make_seal_keeper


@pytest.fixture
def renderer(monkeypatch: pytest.MonkeyPatch) -> FakeRenderer:
    fake = FakeRenderer()
    monkeypatch.setattr(sealing, "_render_pdf", fake)
    return fake


@pytest.fixture
def keeper(cast: Any) -> Any:
    return make_seal_keeper(cast, cast.gov_office)


@pytest.fixture
def gov_seal(cast: Any) -> Seal:
    return sealing.create_seal(cast.gov_office, actor=cast.office_director)


def _png(colour: tuple[int, int, int, int] = (200, 0, 0, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), colour).save(out, format="PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 0, 0)).save(out, format="JPEG")
    return out.getvalue()


def _sealed(cast: Any, keeper: Any, **fields: Any) -> tuple[Any, SealApplication]:
    document = at_seal_step(make_document(cast, **fields))
    application = sealing.authorise_seal(document, actor=keeper)
    return document, application


def _overwrite_stored(blob: Any, data: bytes) -> None:
    path = get_backend()._path(blob.key)  # type: ignore[attr-defined]
    path.chmod(0o644)
    path.write_bytes(data)


# --- the seal image ----------------------------------------------------------------------------------


def test_a_generated_seal_is_a_transparent_red_round_png_of_42_mm() -> None:
    image = Image.open(io.BytesIO(sealing.generate_seal_image("广东省人民政府办公厅")))

    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # corner outside the ring: transparent
    assert image.getpixel((image.width // 2, image.height // 2))[:3] == sealing.SEAL_RED[:3]  # the star
    assert image.getpixel((image.width // 2, 10))[:3] == sealing.SEAL_RED[:3]  # the ring at the top
    dpi = image.info["dpi"][0]
    assert round(image.width / dpi * 25.4) == 42


def test_the_agency_name_is_drawn_on_the_seal() -> None:
    first = sealing.generate_seal_image("广东省财政厅")
    second = sealing.generate_seal_image("广东省教育厅")

    assert first != second


def test_a_seal_is_drawn_even_without_the_cjk_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealing, "FONT_DIRS", ())
    sealing._font.cache_clear()
    try:
        png = sealing.generate_seal_image("广东省财政厅")
    finally:
        sealing._font.cache_clear()

    assert Image.open(io.BytesIO(png)).format == "PNG"


# --- making seals ----------------------------------------------------------------------------------------


def test_the_office_makes_a_seal_with_an_encrypted_private_key(cast: Any) -> None:
    seal = sealing.create_seal(cast.gov_office, actor=cast.office_director)

    assert seal.is_active
    assert seal.name == "广东省人民政府办公厅"
    assert seal.algorithm == "ECDSA-P256-SHA256"
    assert seal.image.content_type == "image/png"
    assert seal.private_key_encrypted.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # unreadable without the passphrase
        serialization.load_pem_private_key(seal.private_key_encrypted.encode(), None)
    assert AuditEvent.objects.filter(action="documents.seal_created", object_id=str(seal.pk)).exists()
    assert OutboxEvent.objects.filter(topic="documents.seal_created", object_id=str(seal.pk)).exists()


def test_a_new_seal_replaces_the_active_one_and_keeps_the_old(cast: Any) -> None:
    old = sealing.create_seal(cast.gov_office, actor=cast.office_director)

    new = sealing.create_seal(cast.gov_office, actor=cast.office_secretary, name="广东省人民政府办公厅（新）")

    old.refresh_from_db()
    assert not old.is_active
    assert new.is_active
    assert sealing.active_seal(cast.gov_office) == new
    assert old.fingerprint != new.fingerprint


def test_an_old_seal_still_verifies_what_it_signed(cast: Any, keeper: Any, renderer: FakeRenderer) -> None:
    sealing.create_seal(cast.gov_office, actor=cast.office_director)
    _, application = _sealed(cast, keeper)

    sealing.create_seal(cast.gov_office, actor=cast.office_director)

    assert sealing.verify(application).valid


def test_someone_outside_the_office_may_not_make_a_seal(cast: Any) -> None:
    for person in (cast.drafter, cast.other_clerk, cast.outsider):
        with pytest.raises(SealRefused, match="办公室"):
            sealing.create_seal(cast.gov_office, actor=person)

    assert not Seal.objects.exists()


def test_an_uploaded_png_becomes_the_seal_image(cast: Any) -> None:
    png = _png()

    seal = sealing.create_seal(
        cast.gov_office, actor=cast.office_director, image_upload=SimpleUploadedFile("印模.png", png)
    )

    assert seal.image.sha256 == hashlib.sha256(png).hexdigest()


def test_an_uploaded_jpeg_is_refused_with_a_png_only_message(cast: Any) -> None:
    with pytest.raises(SealRefused, match="PNG"):
        sealing.create_seal(
            cast.gov_office, actor=cast.office_director, image_upload=SimpleUploadedFile("印模.jpg", _jpeg())
        )

    assert not Seal.objects.exists()


def test_a_file_named_png_that_is_not_an_image_is_refused(cast: Any) -> None:
    with pytest.raises(SealRefused):
        sealing.create_seal(
            cast.gov_office,
            actor=cast.office_director,
            image_upload=SimpleUploadedFile("印模.png", b"MZ\x90\x00" + b"\x00" * 100),
        )


def test_keys_are_sealed_with_the_configured_secret_and_unusable_when_it_changes(
    cast: Any, keeper: Any, renderer: FakeRenderer, settings: Any
) -> None:
    settings.SEAL_KEY_SECRET = "first-secret-kept-apart-from-backups"
    sealing.create_seal(cast.gov_office, actor=cast.office_director)
    settings.SEAL_KEY_SECRET = "another-secret"
    document = at_seal_step(make_document(cast))

    with pytest.raises(SealRefused, match="私钥"):
        sealing.authorise_seal(document, actor=keeper)

    assert not SealApplication.objects.filter(document=document).exists()


def test_without_a_configured_secret_the_passphrase_is_derived_and_not_the_secret_key(settings: Any) -> None:
    settings.SEAL_KEY_SECRET = ""

    passphrase = sealing._passphrase()

    assert passphrase == sealing._passphrase()
    assert settings.SECRET_KEY.encode() not in passphrase
    settings.SECRET_KEY = settings.SECRET_KEY + "-rotated"
    assert sealing._passphrase() != passphrase


# --- 用印 ------------------------------------------------------------------------------------------------


def test_the_seal_keeper_seals_and_the_signed_pdf_verifies(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    document, application = _sealed(cast, keeper)

    rendering = Rendering.objects.get(document=document, kind=RenderKind.SEALED_PDF)
    stored = b"".join(sealing.open_blob(rendering.blob))
    assert rendering.status == RenderStatus.READY
    assert rendering.version == document.current_version
    assert application.sealed_blob == rendering.blob
    assert application.digest == hashlib.sha256(stored).hexdigest()
    assert application.signed_at is not None
    assert application.seal == gov_seal
    assert renderer.calls == [[("广东省人民政府办公厅", b"".join(sealing.open_blob(gov_seal.image)))]]
    result = sealing.verify(application)
    assert result.valid, result.reason
    assert result.agency_name == "广东省人民政府办公厅"
    assert result.digest == application.digest
    assert AuditEvent.objects.filter(action="documents.sealed", object_id=str(document.pk)).exists()
    assert OutboxEvent.objects.filter(topic="documents.sealed", object_id=str(document.pk)).exists()


def test_the_signature_is_plain_ecdsa_sha256_over_the_file(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    _, application = _sealed(cast, keeper)
    stored = b"".join(sealing.open_blob(application.sealed_blob))
    public = serialization.load_pem_public_key(gov_seal.public_key_pem.encode())

    # Anyone with the published public key can check the file with a standard tool: no exception.
    public.verify(base64.b64decode(application.signature), stored, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr, call-arg]


def test_only_the_seal_keeper_may_seal(cast: Any, gov_seal: Seal, renderer: FakeRenderer) -> None:
    document = at_seal_step(make_document(cast))

    for person in (cast.office_director, cast.office_secretary, cast.drafter, cast.leader):
        with pytest.raises(SealRefused, match="印章管理员"):
            sealing.authorise_seal(document, actor=person)

    assert not SealApplication.objects.exists()
    assert renderer.calls == []


def test_another_agencys_seal_keeper_may_not_seal(cast: Any, gov_seal: Seal, renderer: FakeRenderer) -> None:
    finance_keeper = make_seal_keeper(cast, cast.finance, "finance_keeper")
    document = at_seal_step(make_document(cast))

    with pytest.raises(SealRefused, match="印章管理员"):
        sealing.authorise_seal(document, actor=finance_keeper)


def test_a_document_not_at_the_seal_step_is_refused(cast: Any, keeper: Any, gov_seal: Seal) -> None:
    document = make_document(cast)

    with pytest.raises(SealRefused, match="尚未进入用印环节"):
        sealing.authorise_seal(document, actor=keeper)


def test_sealing_twice_is_refused_with_a_clear_message(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    document, _ = _sealed(cast, keeper)

    with pytest.raises(SealRefused, match="已对该公文用印"):
        sealing.authorise_seal(document, actor=keeper)

    assert Rendering.objects.filter(document=document, kind=RenderKind.SEALED_PDF).count() == 1


def test_a_sealed_file_is_never_replaced_so_copies_already_sent_keep_verifying(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    document, application = _sealed(cast, keeper)

    with pytest.raises(SealRefused, match="不能重复生成"):
        sealing.produce_sealed_file(document)

    assert sealing.verify(application).valid
    assert len(renderer.calls) == 1


def test_an_agency_without_a_seal_is_told_to_make_one(cast: Any, keeper: Any, renderer: FakeRenderer) -> None:
    document = at_seal_step(make_document(cast))

    with pytest.raises(SealRefused, match="还没有启用的电子印章"):
        sealing.authorise_seal(document, actor=keeper)


def test_a_joint_document_is_sealed_once_every_issuer_has_authorised(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    finance_keeper = make_seal_keeper(cast, cast.finance, "finance_keeper")
    finance_seal = sealing.create_seal(cast.finance, actor=None)
    document = at_seal_step(make_document(cast, co_issuers=[cast.finance]))

    # The co-issuer may authorise first; nothing is produced until the last issuer has.
    first = sealing.authorise_seal(document, actor=finance_keeper)
    assert first.sealed_blob is None
    assert renderer.calls == []
    second = sealing.authorise_seal(document, actor=keeper)

    first.refresh_from_db()
    assert [name for name, _ in renderer.calls[0]] == ["广东省人民政府办公厅", "广东省财政厅"]  # 署名 order
    assert first.seal == finance_seal
    assert first.sealed_blob == second.sealed_blob
    assert first.digest == second.digest
    assert first.signature != second.signature
    assert sealing.verify(first).valid
    assert sealing.verify(second).valid
    assert Rendering.objects.filter(document=document, kind=RenderKind.SEALED_PDF).count() == 1


def test_a_render_failure_leaves_everything_as_it_was(
    cast: Any, keeper: Any, gov_seal: Seal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(document: Any, seals: Any) -> bytes:
        raise RenderFailed("排版服务暂不可用，请稍后重试。")

    monkeypatch.setattr(sealing, "_render_pdf", broken)
    document = at_seal_step(make_document(cast))

    with pytest.raises(RenderFailed, match="排版服务暂不可用"):
        sealing.authorise_seal(document, actor=keeper)

    assert not SealApplication.objects.filter(document=document).exists()
    assert not Rendering.objects.filter(document=document).exists()


def test_a_crashing_renderer_becomes_a_clear_render_failure(
    cast: Any, keeper: Any, gov_seal: Seal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing(document: Any, seals: Any) -> bytes:
        raise OSError("soffice died")

    monkeypatch.setattr(sealing, "_render_pdf", crashing)
    document = at_seal_step(make_document(cast))

    with pytest.raises(RenderFailed, match="生成盖章文件失败"):
        sealing.authorise_seal(document, actor=keeper)

    assert not SealApplication.objects.filter(document=document).exists()


def test_a_storage_failure_leaves_everything_as_it_was(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(source: Any, *, actor: Any) -> Any:
        raise BlobStoreUnavailable()

    monkeypatch.setattr(sealing, "put", unavailable)
    document = at_seal_step(make_document(cast))

    with pytest.raises(RenderFailed, match="文件存储服务暂不可用"):
        sealing.authorise_seal(document, actor=keeper)

    assert not SealApplication.objects.filter(document=document).exists()
    assert not Rendering.objects.filter(document=document).exists()


# --- verification ----------------------------------------------------------------------------------------


def test_changing_one_byte_of_the_stored_file_makes_verification_fail(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    _, application = _sealed(cast, keeper)
    stored = bytearray(b"".join(sealing.open_blob(application.sealed_blob)))
    stored[len(stored) // 2] ^= 0x01

    _overwrite_stored(application.sealed_blob, bytes(stored))

    result = sealing.verify(application)
    assert not result.valid
    assert "已被改动" in result.reason
    assert result.file_digest == hashlib.sha256(stored).hexdigest()


def test_a_forged_digest_and_signature_in_the_database_do_not_verify(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    _, application = _sealed(cast, keeper)
    other_seal = sealing.create_seal(cast.finance, actor=None)
    stored = b"".join(sealing.open_blob(application.sealed_blob))
    # Someone with database access signs with another key: the stored public key exposes it.
    SealApplication.objects.filter(pk=application.pk).update(
        signature=sealing._sign_digest(other_seal, hashlib.sha256(stored).hexdigest())
    )
    application.refresh_from_db()

    result = sealing.verify(application)

    assert not result.valid
    assert "签名无效" in result.reason


def test_a_lost_stored_file_is_reported_not_raised(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    _, application = _sealed(cast, keeper)
    get_backend()._path(application.sealed_blob.key).unlink()  # type: ignore[attr-defined]

    result = sealing.verify(application)

    assert not result.valid
    assert "丢失" in result.reason


def test_an_uploaded_copy_of_the_sealed_file_verifies(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    _, application = _sealed(cast, keeper)
    stored = b"".join(sealing.open_blob(application.sealed_blob))

    results = sealing.verify_upload(SimpleUploadedFile("收到的文件.pdf", stored))

    assert [r.valid for r in results] == [True]
    assert results[0].agency_name == "广东省人民政府办公厅"
    assert results[0].application_id == application.pk


def test_an_uploaded_file_changed_by_one_byte_is_not_recognised(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    _, application = _sealed(cast, keeper)
    stored = bytearray(b"".join(sealing.open_blob(application.sealed_blob)))
    stored[-10] ^= 0x20

    with pytest.raises(DocumentError, match="不是本平台生成的盖章文件，或文件已被改动"):
        sealing.verify_upload(SimpleUploadedFile("收到的文件.pdf", bytes(stored)))


def test_an_upload_that_is_not_a_pdf_is_refused(cast: Any) -> None:
    with pytest.raises(DocumentError, match="PDF"):
        sealing.verify_upload(SimpleUploadedFile("说明.txt", "普通文本".encode()))


# --- who may download seal images and sealed files --------------------------------------------------------


def test_the_sealed_file_is_readable_by_those_who_see_the_document_only(
    cast: Any, keeper: Any, gov_seal: Seal, renderer: FakeRenderer
) -> None:
    _, application = _sealed(cast, keeper)
    referrer = sealing.SealedFileReferrer()

    assert referrer.can_read(cast.drafter, application.sealed_blob)
    assert referrer.can_read(keeper, application.sealed_blob)
    assert not referrer.can_read(cast.outsider, application.sealed_blob)
    assert not referrer.can_read(cast.other_clerk, application.sealed_blob)
    assert application.sealed_blob_id in set(referrer.referenced_blob_ids())


def test_the_seal_image_is_readable_by_the_office_and_not_by_outsiders(cast: Any, gov_seal: Seal) -> None:
    referrer = sealing.SealImageReferrer()

    assert referrer.can_read(cast.office_secretary, gov_seal.image)
    assert not referrer.can_read(cast.drafter, gov_seal.image)
    assert not referrer.can_read(cast.outsider, gov_seal.image)
    assert gov_seal.image_id in set(referrer.referenced_blob_ids())


# --- with the real renderer --------------------------------------------------------------------------------


def test_the_real_renderer_places_the_seal_and_the_result_verifies(
    cast: Any, keeper: Any, gov_seal: Seal
) -> None:
    rendering = pytest.importorskip("documents.rendering", reason="documents/rendering.py has not landed yet")
    pytest.importorskip("documents.gbt9704", reason="documents/gbt9704.py has not landed yet")
    assert hasattr(rendering, "render_pdf")

    _, application = _sealed(cast, keeper)

    stored = b"".join(sealing.open_blob(application.sealed_blob))
    assert stored.startswith(b"%PDF")
    assert sealing.verify(application).valid


# --- races (PostgreSQL row locks) --------------------------------------------------------------------------


def _at_once(*calls: Any) -> list[Any]:
    """Run the calls in threads released together; each result or the exception it raised."""
    import threading

    from django.db import connection

    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each caller got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


postgres_only = pytest.mark.skipif(
    not django_settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"
)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_co_issuers_sealing_at_the_same_moment_produce_one_file_signed_by_both(
    cast: Any, keeper: Any, renderer: FakeRenderer
) -> None:
    finance_keeper = make_seal_keeper(cast, cast.finance, "finance_keeper")
    sealing.create_seal(cast.gov_office, actor=None)
    sealing.create_seal(cast.finance, actor=None)
    document = at_seal_step(make_document(cast, co_issuers=[cast.finance]))

    results = _at_once(
        lambda: sealing.authorise_seal(document, actor=keeper),
        lambda: sealing.authorise_seal(document, actor=finance_keeper),
    )

    assert all(isinstance(r, SealApplication) for r in results), results
    applications = list(SealApplication.objects.filter(document=document))
    assert len(applications) == 2
    assert len({a.digest for a in applications}) == 1 and applications[0].digest
    assert all(sealing.verify(a).valid for a in applications)
    assert Rendering.objects.filter(document=document, kind=RenderKind.SEALED_PDF).count() == 1
    assert len(renderer.calls) == 1


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_seal_seals_once_and_tells_the_second(
    cast: Any, keeper: Any, renderer: FakeRenderer
) -> None:
    sealing.create_seal(cast.gov_office, actor=None)
    document = at_seal_step(make_document(cast))

    results = _at_once(
        lambda: sealing.authorise_seal(document, actor=keeper),
        lambda: sealing.authorise_seal(document, actor=keeper),
    )

    refusals = [r for r in results if isinstance(r, SealRefused)]
    assert len(refusals) == 1, results
    assert "已对该公文用印" in refusals[0].message
    assert SealApplication.objects.filter(document=document).count() == 1
    assert Rendering.objects.filter(document=document, kind=RenderKind.SEALED_PDF).count() == 1


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_seals_made_at_once_leave_exactly_one_active(cast: Any) -> None:

    results = _at_once(
        lambda: sealing.create_seal(cast.gov_office, actor=cast.office_director, name="甲"),
        lambda: sealing.create_seal(cast.gov_office, actor=cast.office_secretary, name="乙"),
    )

    assert all(isinstance(r, Seal) for r in results), results
    assert Seal.objects.filter(agency=cast.gov_office).count() == 2
    assert Seal.objects.filter(agency=cast.gov_office, is_active=True).count() == 1


# --- in the 发文 flow ----------------------------------------------------------------------------------------


def test_the_flows_seal_step_seals_and_the_document_moves_on_to_distribution(
    cast: Any, renderer: FakeRenderer
) -> None:
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from tests.workflows.conftest import build_flow_cast
    from workflows import services
    from workflows.models import TaskCandidate
    from workflows.services import StepInput

    flow_cast = build_flow_cast(cast)
    sealing.create_seal(cast.gov_office, actor=cast.office_director)
    document = make_document(cast)
    process = services.start_outgoing(document, actor=cast.drafter)
    open_states = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]

    # Every step agreed by whoever holds (or may claim) it, until the document waits for 分发.
    for _ in range(20):
        task = Task.objects.filter(process=process, flow_task_type="HUMAN", status__in=open_states).first()
        assert task is not None
        if task.flow_task.name == "distribute":
            break
        actor = task.owner or TaskCandidate.objects.filter(task=task).first().user
        if task.owner is None:
            services.claim(task, actor=actor)
        if task.flow_task.name == "typeset":
            services.typeset_render(Task.objects.get(pk=task.pk), actor=actor)
        if task.flow_task.name == "seal":
            assert actor == flow_cast.seal_keeper
        services.complete_step(
            Task.objects.get(pk=task.pk), actor=actor, step_input=StepInput(opinion="同意")
        )

    document.refresh_from_db()
    application = SealApplication.objects.get(document=document)
    assert document.state == "distribute"
    assert application.authorised_by == flow_cast.seal_keeper
    assert sealing.verify(application).valid
    assert len(renderer.calls) == 1
