"""电子印章 and 用印: seal images, signing keys, the sealed PDF and its verification (issue 4).

Each agency has one active `Seal`: a red round seal image and an ECDSA P-256 key pair whose private
key is stored encrypted (PKCS#8). 用印 is authorised per issuing agency by its 印章管理员; once every
issuer (主办机关 and each 联署机关) has authorised, the sealed PDF is produced once with every seal
placed per GB/T 9704 G26 and its SHA-256 is signed with each issuer's key, so every signature covers
the same final file. Anyone who may see the document can verify: the stored file is re-read, its
digest recomputed and each signature checked with the stored public key.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from documents import access
from documents.errors import DocumentError, RenderFailed, SealRefused
from documents.models import (
    CoIssuer,
    DocumentState,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
    Seal,
    SealApplication,
)
from officeapp.audit.services import record
from officeapp.blobs.backends import BlobMissing, BlobStoreUnavailable
from officeapp.blobs.checks import CheckedUpload, UploadRefused, check_upload
from officeapp.blobs.models import Blob
from officeapp.blobs.services import open_blob, put
from officeapp.org.models import Agency
from officeapp.outbox.services import emit

ALGORITHM = "ECDSA-P256-SHA256"
DIGEST_ALGORITHM = "SHA-256"

# 42 mm is the common diameter of an agency's round seal; at 600 dpi that is ~992 px, enough for a
# crisp print once LibreOffice scales the image to 42 mm on the page.
SEAL_DIAMETER_MM = 42
SEAL_PIXELS = 992
SEAL_RED = (230, 0, 18, 255)  # 印泥红; G08 allows red only for 标志, 分隔线 and seals
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts"))
FONT_NAMES = (
    "NotoSerifCJK-Bold.ttc",
    "NotoSansCJK-Bold.ttc",
    "NotoSerifCJK-Regular.ttc",
    "NotoSansCJK-Regular.ttc",
)

MSG_NOT_OFFICE = "只有本机关办公室（文秘、办公室主任）可以制作电子印章。"
MSG_NOT_KEEPER = "只有发文机关（含联署机关）的印章管理员可以用印。"
MSG_NOT_AT_SEAL = "该公文尚未进入用印环节，不能用印。"
MSG_ALREADY = "本机关已对该公文用印，不能重复用印。"
MSG_PNG_ONLY = "印模图片只接受 PNG 格式（建议透明背景）。"
MSG_NOT_SEALED_FILE = "未找到与该文件对应的用印记录：该文件不是本平台生成的盖章文件，或文件已被改动。"
MSG_PDF_ONLY = "请上传 PDF 格式的盖章文件。"


# --- seal image -------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for directory in FONT_DIRS:
        for name in FONT_NAMES:
            if not directory.is_dir():
                continue
            direct = directory / name
            for candidate in [direct] if direct.is_file() else directory.rglob(name):
                if candidate.is_file():
                    try:
                        return ImageFont.truetype(str(candidate), size)
                    except OSError:
                        continue
    # Without the CJK fonts the name renders as boxes, but sealing still works (and the office can
    # upload a proper 印模 instead).
    return ImageFont.load_default(size=size)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points: list[tuple[float, float]] = []
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        angle = math.radians(-90 + 36 * i)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def generate_seal_image(agency_name: str) -> bytes:
    """A red round official seal as a transparent PNG: outer ring, a five-pointed star in the middle,
    the agency name along the upper arc, read clockwise from the lower left (the usual 公章 layout)."""
    size = SEAL_PIXELS
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = size / 2
    ring = size * 0.035
    # The outline is drawn inside the box: the ring's outer edge is the 42 mm edge of the image.
    draw.ellipse((0, 0, size - 1, size - 1), outline=SEAL_RED, width=round(ring))
    _star(draw, centre, centre, size * 0.16)

    name = agency_name.strip() or "电子印章"
    font_size = round(size * (0.13 if len(name) <= 10 else 0.11 if len(name) <= 14 else 0.085))
    font = _font(font_size)
    text_radius = centre - ring - font_size * 0.75
    # The name spans up to 240° of the arc, centred on the top; short names sit closer together.
    span = min(240.0, 22.0 * len(name))
    step = span / max(len(name) - 1, 1)
    for i, char in enumerate(name):
        theta = -span / 2 + i * step if len(name) > 1 else 0.0
        glyph = Image.new("RGBA", (font_size * 2, font_size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((font_size, font_size), char, font=font, fill=SEAL_RED, anchor="mm")
        # PIL rotates counter-clockwise; a character right of the top leans clockwise by theta.
        glyph = glyph.rotate(-theta, resample=Image.Resampling.BICUBIC, expand=True)
        x = centre + text_radius * math.sin(math.radians(theta))
        y = centre - text_radius * math.cos(math.radians(theta))
        image.alpha_composite(glyph, (round(x - glyph.width / 2), round(y - glyph.height / 2)))

    out = io.BytesIO()
    # 600 dpi: 992 px = 42 mm, so a page that honours the dpi shows the seal at its real size.
    image.save(out, format="PNG", dpi=(600, 600))
    return out.getvalue()


# --- keys ----------------------------------------------------------------------------------------------


def _passphrase() -> bytes:
    """The passphrase that encrypts seals' private keys (PKCS#8, BestAvailableEncryption).

    Production sets SEAL_KEY_SECRET and keeps it apart from the database backups, so a stolen dump
    alone cannot sign. When it is empty we derive one from SECRET_KEY with HKDF rather than using
    SECRET_KEY itself: the derived value is bound to this one purpose (the `info` label), so it
    never equals a key Django uses for sessions or signing, and learning it reveals nothing about
    SECRET_KEY. Rotating SECRET_KEY without setting SEAL_KEY_SECRET makes existing seals unusable
    for signing (verification needs only the public key and keeps working).
    """
    secret: str = settings.SEAL_KEY_SECRET
    if secret:
        return secret.encode("utf-8")
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"officeapp seal private keys"
    ).derive(settings.SECRET_KEY.encode("utf-8"))
    return base64.b64encode(derived)


def _new_key_pair() -> tuple[str, str, str]:
    """(public PEM, encrypted private PEM, fingerprint = SHA-256 of the public key's DER)."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase()),
    ).decode("ascii")
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public_pem, private_pem, hashlib.sha256(der).hexdigest()


def _private_key(seal: Seal) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(seal.private_key_encrypted.encode("ascii"), _passphrase())
    except (ValueError, TypeError) as exc:
        raise SealRefused(
            f"无法解开“{seal.name}”的签名私钥（印章密钥口令已更换？），请联系系统管理员。"
        ) from exc
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _sign_digest(seal: Seal, digest_hex: str) -> str:
    # Prehashed: the signature is an ordinary ECDSA-SHA256 signature over the file itself, so any
    # standard tool can check it against the PDF with the published public key.
    signature = _private_key(seal).sign(bytes.fromhex(digest_hex), ec.ECDSA(Prehashed(hashes.SHA256())))
    return base64.b64encode(signature).decode("ascii")


def _signature_holds(seal: Seal, digest_hex: str, signature_b64: str) -> bool:
    try:
        public = serialization.load_pem_public_key(seal.public_key_pem.encode("ascii"))
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(
            base64.b64decode(signature_b64, validate=True),
            bytes.fromhex(digest_hex),
            ec.ECDSA(Prehashed(hashes.SHA256())),
        )
    except (InvalidSignature, ValueError, TypeError, AssertionError):
        return False
    return True


# --- seals ---------------------------------------------------------------------------------------------


def _checked_png(image_upload: Any) -> CheckedUpload:
    try:
        checked = (
            image_upload
            if isinstance(image_upload, CheckedUpload)
            else check_upload(image_upload, allowed_kinds={"image"})
        )
    except UploadRefused as refusal:
        raise SealRefused(refusal.message) from refusal
    if checked.type.key != "png":
        raise SealRefused(MSG_PNG_ONLY)
    # The magic number says PNG; make sure it also decodes, so a broken file never reaches a PDF.
    checked.file.seek(0)
    try:
        with Image.open(checked.file) as probe:
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise SealRefused("印模图片无法读取，请上传有效的 PNG 图片。") from exc
    finally:
        checked.file.seek(0)
    return checked


def active_seal(agency: Agency | int) -> Seal | None:
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    return Seal.objects.filter(agency_id=agency_id, is_active=True).first()


def create_seal(agency: Agency, *, actor: Any, name: str | None = None, image_upload: Any = None) -> Seal:
    """制作电子印章: a new key pair and 印模 (uploaded PNG or generated) for the agency. The new seal
    becomes the active one; the old one is kept (inactive) so what it signed still verifies.

    Kept by the agency's office; `actor=None` is the platform itself (load_demo, commands).
    """
    if actor is not None and not access.can_keep_letterheads(actor, agency.pk):
        raise SealRefused(MSG_NOT_OFFICE)
    seal_name = (name or "").strip() or agency.name
    if len(seal_name) > 60:
        raise SealRefused("印章名称不能超过60个字。")
    # Bytes go to the store before the transaction (content-addressed; an orphan is swept later).
    try:
        if image_upload is not None:
            image = put(_checked_png(image_upload), actor=actor)
        else:
            image = put(io.BytesIO(generate_seal_image(agency.name)), actor=actor)
    except BlobStoreUnavailable as exc:
        raise SealRefused(exc.message) from exc
    public_pem, private_pem, fingerprint = _new_key_pair()
    with transaction.atomic():
        # The agency row lock serialises two offices making a seal at once (one active per agency).
        Agency.objects.select_for_update().filter(pk=agency.pk).first()
        replaced = list(Seal.objects.filter(agency=agency, is_active=True).values_list("pk", flat=True))
        Seal.objects.filter(pk__in=replaced).update(is_active=False)
        seal = Seal.objects.create(
            agency=agency,
            name=seal_name,
            image=image,
            algorithm=ALGORITHM,
            public_key_pem=public_pem,
            private_key_encrypted=private_pem,
            fingerprint=fingerprint,
            is_active=True,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        details = {
            "agency": agency.pk,
            "fingerprint": fingerprint,
            "image": image.pk,
            "uploaded": image_upload is not None,
            "replaced": replaced,
        }
        record("documents.seal_created", actor=actor, obj=seal, details=details)
        emit_payload = {
            "agency": agency.pk,
            "seal": seal.pk,
            "fingerprint": fingerprint,
            "replaced": replaced,
        }
        emit("documents.seal_created", seal, payload=emit_payload)
    return seal


# --- 用印 ------------------------------------------------------------------------------------------------


def issuer_ids(document: OfficialDocument) -> list[int]:
    """主办机关 first, then 联署机关 in 署名 order: the order of the seals on the page (G26)."""
    co = (
        CoIssuer.objects.filter(document=document).order_by("order", "pk").values_list("agency_id", flat=True)
    )
    return [document.agency_id, *[a for a in co if a != document.agency_id]]


def authorise_seal(document: OfficialDocument, *, actor: Any) -> SealApplication:
    """用印: the actor, 印章管理员 of an issuing agency, authorises its seal on the document. When the
    last issuer has authorised, the sealed PDF is produced and signed (produce_sealed_file)."""
    with transaction.atomic():
        # Lock the document: co-issuers' keepers authorising at once must see each other's rows,
        # or both would think the other is still missing and nobody would produce the file.
        locked = OfficialDocument.objects.select_for_update().get(pk=document.pk)
        if locked.state != DocumentState.SEAL:
            raise SealRefused(MSG_NOT_AT_SEAL)
        issuers = issuer_ids(locked)
        mine = [a for a in issuers if access.can_seal(actor, a)]
        if not mine:
            raise SealRefused(MSG_NOT_KEEPER)
        done = set(SealApplication.objects.filter(document=locked).values_list("agency_id", flat=True))
        pending = [a for a in mine if a not in done]
        if not pending:
            raise SealRefused(MSG_ALREADY)
        # The seal with its agency in one read; the agency alone only to say that it has none.
        seal = Seal.objects.filter(agency_id=pending[0], is_active=True).select_related("agency").first()
        if seal is None:
            agency = Agency.objects.get(pk=pending[0])
            raise SealRefused(f"{agency.name}还没有启用的电子印章，请先由本机关办公室制作印章。")
        agency = seal.agency
        if locked.current_version_id is None:
            raise SealRefused("该公文没有正文版本，无法用印。")
        application = SealApplication.objects.create(
            document=locked,
            agency=agency,
            seal=seal,
            digest_algorithm=DIGEST_ALGORITHM,
            authorised_by=actor,
            authorised_at=timezone.now(),
        )
        details = {"document": locked.pk, "agency": agency.pk, "seal": seal.pk}
        record("documents.seal_authorised", actor=actor, obj=application, details=details)
        emit("documents.seal_authorised", application, payload=details)
        if done | {agency.pk} >= set(issuers):
            _, signed = _produce_sealed_file(locked, actor=actor, issuers=issuers)
            # The signed row as written (digest, signature, file), without reading it back.
            application = next(a for a in signed if a.pk == application.pk)
    return application


def _read_blob(blob: Blob) -> bytes:
    return b"".join(open_blob(blob))


def _render_pdf(document: OfficialDocument, seals: list[tuple[str, bytes]]) -> bytes:
    """The one door to the renderer (documents/rendering.py), so tests can stand in for it."""
    from documents.gbt9704 import SealImage
    from documents.rendering import render_pdf

    return render_pdf(document, seals=[SealImage(agency_name=n, png=p) for n, p in seals])


def produce_sealed_file(document: OfficialDocument, *, actor: Any = None) -> Rendering:
    """The sealed PDF with every authorised seal, stored, hashed and signed by each issuer's key.

    A render or storage failure raises RenderFailed and changes nothing. Rendering happens inside the
    caller's transaction when 用印 calls us from a flow step: the file must exist before the step can
    complete, and a failure must roll the step back with it.
    """
    rendering, _ = _produce_sealed_file(document, actor=actor)
    return rendering


def _produce_sealed_file(
    document: OfficialDocument, *, actor: Any, issuers: list[int] | None = None
) -> tuple[Rendering, list[SealApplication]]:
    """produce_sealed_file, also handing back the signed applications; `issuers` when the caller
    has just read them (authorise_seal, under the document's lock)."""
    order = {agency_id: i for i, agency_id in enumerate(issuers or issuer_ids(document))}
    applications = sorted(
        SealApplication.objects.filter(document=document).select_related("agency", "seal", "seal__image"),
        key=lambda a: order.get(a.agency_id, len(order)),
    )
    if not applications:
        raise SealRefused("尚无用印授权，无法生成盖章文件。")
    if any(a.signature for a in applications):
        # A sealed file may already be out with recipients: re-signing would orphan its signatures.
        raise SealRefused("该公文已生成盖章文件并签名，不能重复生成。")
    if document.current_version_id is None:
        raise SealRefused("该公文没有正文版本，无法用印。")
    try:
        seals = [(a.agency.name, _read_blob(a.seal.image)) for a in applications]
        pdf = _render_pdf(document, seals)
        if not isinstance(pdf, bytes | bytearray) or not bytes(pdf).startswith(b"%PDF"):
            raise RenderFailed("生成的盖章文件不是有效的 PDF，请联系系统管理员。")
        pdf = bytes(pdf)
        blob = put(io.BytesIO(pdf), actor=actor)
    except (BlobStoreUnavailable, BlobMissing) as exc:
        raise RenderFailed("文件存储服务暂不可用，盖章文件未生成，请稍后重试。") from exc
    except RenderFailed:
        raise
    except DocumentError as exc:
        raise RenderFailed(exc.message) from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise RenderFailed("生成盖章文件失败，公文和流程保持不变，请稍后重试。") from exc

    digest = hashlib.sha256(pdf).hexdigest()
    # Only writes from here (every refusal came before): inside 用印's transaction no savepoint of
    # its own, and on its own still one transaction.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        for application in applications:
            application.sealed_blob = blob
            application.digest_algorithm = DIGEST_ALGORITHM
            application.digest = digest
            application.signature = _sign_digest(application.seal, digest)
            application.signed_at = now
            application.save(
                update_fields=["sealed_blob", "digest_algorithm", "digest", "signature", "signed_at"]
            )
        rendering = Rendering.objects.create(
            document=document,
            version_id=document.current_version_id,
            kind=RenderKind.SEALED_PDF,
            status=RenderStatus.READY,
            blob=blob,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
            finished_at=now,
        )
        details = {
            "document": document.pk,
            "rendering": rendering.pk,
            "blob": blob.pk,
            "digest": digest,
            "agencies": [a.agency_id for a in applications],
        }
        record("documents.sealed", actor=actor, obj=document, details=details)
        emit("documents.sealed", document, payload=details)
    return rendering, applications


# --- verification --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    valid: bool
    agency_name: str
    seal_name: str
    algorithm: str
    signed_at: datetime | None
    digest: str  # the SHA-256 that was signed (hex)
    file_digest: str  # the SHA-256 of the file as read now ("" when it could not be read)
    fingerprint: str
    reason: str = ""  # why it is invalid, in Chinese
    application_id: int = 0
    document_id: int = 0
    sealed_blob_id: int = 0  # the stored sealed PDF, for a download link ("" before it is made)

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "agency": self.agency_name,
            "seal": self.seal_name,
            "algorithm": self.algorithm,
            "digest_algorithm": DIGEST_ALGORITHM,
            "signed_at": timezone.localtime(self.signed_at).isoformat() if self.signed_at else None,
            "digest": self.digest,
            "file_digest": self.file_digest,
            "public_key_fingerprint": self.fingerprint,
            "reason": self.reason,
        }


def _judge(application: SealApplication, file_digest: str, *, unreadable: str = "") -> Verification:
    seal = application.seal
    reason = unreadable
    if not reason and not (application.signature and application.digest):
        reason = "尚未生成盖章文件，没有可验证的签名。"
    elif not reason and file_digest != application.digest:
        reason = "文件内容与用印时的摘要不一致，文件已被改动。"
    elif not reason and not _signature_holds(seal, file_digest, application.signature):
        reason = "签名无效：签名与文件摘要或印章公钥不符。"
    return Verification(
        valid=not reason,
        agency_name=application.agency.name,
        seal_name=seal.name,
        algorithm=seal.algorithm,
        signed_at=application.signed_at,
        digest=application.digest,
        file_digest=file_digest,
        fingerprint=seal.fingerprint,
        reason=reason,
        application_id=application.pk,
        document_id=application.document_id,
        sealed_blob_id=application.sealed_blob_id or 0,
    )


def _digest_of(chunks: Iterable[bytes]) -> str:
    sha = hashlib.sha256()
    for chunk in chunks:
        sha.update(chunk)
    return sha.hexdigest()


def verify(application: SealApplication) -> Verification:
    """Re-read the stored sealed file, recompute its SHA-256 and check the signature with the
    seal's public key. Any changed byte gives valid=False with the reason."""
    if application.sealed_blob_id is None:
        return _judge(application, "")
    try:
        file_digest = _digest_of(open_blob(application.sealed_blob))
    except BlobMissing:
        return _judge(application, "", unreadable="已存储的盖章文件丢失，无法验证。")
    except BlobStoreUnavailable:
        return _judge(application, "", unreadable="文件存储服务暂不可用，暂时无法验证，请稍后重试。")
    return _judge(application, file_digest)


def applications_of(document: OfficialDocument) -> QuerySet[SealApplication]:
    return SealApplication.objects.filter(document=document).select_related(
        "agency", "seal", "sealed_blob", "authorised_by"
    )


def verify_document(document: OfficialDocument) -> list[Verification]:
    order = {agency_id: i for i, agency_id in enumerate(issuer_ids(document))}
    applications = sorted(applications_of(document), key=lambda a: order.get(a.agency_id, len(order)))
    return [verify(a) for a in applications]


def verify_upload(file: Any) -> list[Verification]:
    """验证上传的文件: find the 用印 records whose signed digest is this file's and check each
    signature against the uploaded bytes. Raises DocumentError when no record matches."""
    try:
        checked = file if isinstance(file, CheckedUpload) else check_upload(file, allowed_kinds={"document"})
    except UploadRefused as refusal:
        raise DocumentError(refusal.message) from refusal
    if checked.type.key != "pdf":
        raise DocumentError(MSG_PDF_ONLY)
    stream = checked.file
    stream.seek(0)
    chunks = stream.chunks() if hasattr(stream, "chunks") else iter(lambda: stream.read(64 * 1024), b"")
    file_digest = _digest_of(chunks)
    stream.seek(0)
    applications = list(
        SealApplication.objects.filter(digest=file_digest).select_related("agency", "seal").order_by("pk")
    )
    if not applications:
        raise DocumentError(MSG_NOT_SEALED_FILE)
    return [_judge(a, file_digest) for a in applications]


# --- downloads -----------------------------------------------------------------------------------------


class SealImageReferrer:
    """印模: readable by the agency's office and seal keepers, and by whoever may see a document the
    seal was applied to (the image is on the sealed page anyway)."""

    name = "documents.seal_image"

    def can_read(self, user: Any, blob: Blob) -> bool:
        seals = list(Seal.objects.filter(image=blob).values_list("pk", "agency_id"))
        if not seals:
            return False
        if any(access.can_keep_letterheads(user, a) or access.can_seal(user, a) for _, a in seals):
            return True
        documents = SealApplication.objects.filter(seal_id__in=[pk for pk, _ in seals]).values("document_id")
        return access.visible_documents(user).filter(pk__in=documents).exists()

    def referenced_blob_ids(self) -> QuerySet[Any]:
        return Seal.objects.values_list("image_id", flat=True)


class SealedFileReferrer:
    """The sealed PDF: readable by whoever may see its document (documents/access.py)."""

    name = "documents.sealed_file"

    def can_read(self, user: Any, blob: Blob) -> bool:
        documents = SealApplication.objects.filter(sealed_blob=blob).values("document_id")
        return access.visible_documents(user).filter(pk__in=documents).exists()

    def referenced_blob_ids(self) -> QuerySet[Any]:
        return SealApplication.objects.filter(sealed_blob__isnull=False).values_list(
            "sealed_blob_id", flat=True
        )
