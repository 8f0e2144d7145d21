"""Signed, verifiable codes: what a card or a licence carries in its QR code, and the public page that checks it.

A code is a token naming (kind, object id, version), signed by the platform. Anyone who scans it opens
`/verify/<token>/`, which

* rejects a token whose signature does not match (tampered, truncated, made up) with a clear message (400);
* asks the resolver the domain registered for the kind what the object is now, and shows only the fields its
  holder chose to disclose;
* rejects a code whose version is not the object's current one (a card reported lost and reissued, a licence
  re-rendered) or whose object was revoked (410).

Why Django's signing (HMAC-SHA256 keyed by SECRET_KEY with a salt of its own) and not Ed25519: the only verifier is
this platform's own public page, so nobody outside needs a public key, and a MAC is as strong for that; it needs no
new compiled dependency and no key to generate, store and rotate beside SECRET_KEY (SECRET_KEY_FALLBACKS rotates it,
as for sessions). The dedicated salt keeps these signatures from being valid for any other signed value of the
platform (sessions, password resets, webhooks). If another city's system must one day check codes offline, the
token's leading format mark ("1") lets an Ed25519 format "2" be added beside it without breaking printed codes.

Domains register a resolver in their AppConfig.ready(); the kernel imports no domain:

    verification_register("talent.card", "人才卡", resolve_card)

    token = code_sign(kind="talent.card", object_id=str(card.public_id), version=card.code_version)
    svg = qr_svg(code_url(token, base=request.build_absolute_uri("/")))
"""

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.core import signing
from django.urls import reverse

SALT = "twincity.core.verification"
FORMAT = "1"
TOKEN_MAX = 400

Status = Literal["valid", "revoked", "expired", "suspended"]


class CodeInvalid(Exception):
    """The token is not one this platform signed (tampered, truncated or made up), or names no known kind."""


@dataclass(frozen=True)
class CodeClaim:
    """What a verified token says: the kind of object, its id, and the version of its code."""

    kind: str
    object_id: str
    version: int


@dataclass(frozen=True)
class Verification:
    """A resolver's answer for a claim: the object's current status and version, its title, and the fields its
    holder chose to show, as (label, value) pairs in the order to show them."""

    status: Status
    version: int
    title: str
    fields: Sequence[tuple[str, str]] = field(default_factory=tuple)
    note: str = ""  # why it is not valid, in words for the person scanning

    def for_claim(self, claim: CodeClaim) -> "Verification":
        """This answer as the scanned code gets it: a code of an older version is revoked, whatever the object's
        status, and shows none of the holder's fields."""
        if claim.version != self.version:
            return Verification("revoked", self.version, self.title, (),
                                "该二维码已作废（证件已挂失补发或更新） (this code was replaced by a newer one)")
        if self.status != "valid":
            return Verification(self.status, self.version, self.title, (), self.note)
        return self


# resolver(object_id) -> Verification | None (None: no such object)
Resolver = Callable[[str], "Verification | None"]


@dataclass(frozen=True)
class _Registration:
    kind: str
    label: str
    resolve: Resolver


_RESOLVERS: dict[str, _Registration] = {}


def verification_register(kind: str, label: str, resolve: Resolver) -> None:
    """Register (or replace) the resolver of a kind of code, e.g. ("talent.card", "人才卡", resolve_card)."""
    if not kind or "|" in kind:
        raise ValueError(f"invalid code kind {kind!r}")
    _RESOLVERS[kind] = _Registration(kind, label, resolve)


def verification_kinds() -> list[str]:
    return sorted(_RESOLVERS)


def code_sign(*, kind: str, object_id: str, version: int) -> str:
    """The signed token of (kind, object id, version): URL-safe text, about 70 characters for a UUID id."""
    if kind not in _RESOLVERS:
        raise ValueError(f"no resolver registered for code kind {kind!r}")
    return signing.Signer(salt=SALT).sign_object([FORMAT, kind, object_id, version], compress=True)


def code_read(token: str) -> CodeClaim:
    """The claim of a token this platform signed; CodeInvalid for anything else (a changed character included)."""
    if not token or len(token) > TOKEN_MAX:
        raise CodeInvalid("二维码格式无效 (not a code of this platform)")
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise CodeInvalid("二维码签名无效，可能已被篡改 (the code's signature does not match: it was altered)") from exc
    except Exception as exc:  # noqa: BLE001  (zlib or JSON errors of a payload that was signed but is malformed)
        raise CodeInvalid("二维码内容无效 (the code's content is invalid)") from exc
    if (not isinstance(value, list) or len(value) != 4 or value[0] != FORMAT or not isinstance(value[1], str)
            or not isinstance(value[2], str) or not isinstance(value[3], int)):
        raise CodeInvalid("二维码内容无效 (the code's content is invalid)")
    return CodeClaim(kind=value[1], object_id=value[2], version=value[3])


@dataclass(frozen=True)
class VerifyOutcome:
    """What the public page shows: the kind's label, and the verification (None when the object is gone)."""

    claim: CodeClaim
    label: str
    verification: Verification | None


def code_verify(token: str) -> VerifyOutcome:
    """Read the token and ask its kind's resolver; CodeInvalid for a bad token or an unknown kind."""
    claim = code_read(token)
    registration = _RESOLVERS.get(claim.kind)
    if registration is None:
        raise CodeInvalid("未知的证照类型 (this kind of code is not known here)")
    current = registration.resolve(claim.object_id)
    return VerifyOutcome(claim, registration.label, current.for_claim(claim) if current is not None else None)


def code_url(token: str, *, base: str = "") -> str:
    """The public verify page of a token; absolute when `base` ("https://host/") is given (what a QR code holds)."""
    path = reverse("core:verify", args=[token])
    return base.rstrip("/") + path if base else path


def disclosed(available: Mapping[str, tuple[str, str]], chosen: Iterable[str]) -> list[tuple[str, str]]:
    """The (label, value) pairs of the fields the holder chose, in the order of `available`; a chosen key that
    is not available is ignored."""
    wanted = set(chosen)
    return [pair for key, pair in available.items() if key in wanted]


def qr_svg(data: str, *, scale: int = 4, title: str = "") -> str:
    """The QR code of `data` as an inline SVG element (segno: pure Python, no imaging library)."""
    import segno

    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True, title=title or None,
              svgclass="qr", lineclass=None)
    return out.getvalue().decode()
