"""The version's auth scheme (CW-VER-2): before Cityworks 23 a signed-in call carries its token as the `token`
parameter (query or form); from 23 on as `Authorization: cityworks <token>`. The version comes from the proxy's
`--version` (23 unless told); a wrong version makes every call look wrong, which the message says."""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis import Profile
from ..exchange import Exchange
from .model import Judgement, Rule, failed, not_covered, passed
from .reading import cw_status, parameter

SCHEME = "cityworks"


def _signs_in(ex: Exchange) -> bool:
    return "Authenticate" in (ex.operation or "")


def _scheme(ex: Exchange) -> str | None:
    """How the call carries its token: "header", "parameter", "both" or None."""
    header = ex.header("Authorization") or ""
    in_header = header.split(" ", 1)[0].lower() == SCHEME
    in_parameter = parameter(ex, "token") not in (None, "")
    if in_header and in_parameter:
        return "both"
    return "header" if in_header else "parameter" if in_parameter else None


def version_auth_scheme(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    calls = [ex for ex in exchanges if ex.operation is not None and not _signs_in(ex)]
    if not calls:
        return not_covered(NEEDS)
    wanted = "header" if (p.version or "23").startswith("23") else "parameter"
    told = "Authorization: cityworks <token>" if wanted == "header" else "the token parameter"
    wrong = [(ex, s) for ex in calls if (s := _scheme(ex)) != wanted]
    if wrong:
        shown = "; ".join(f"#{ex.id} {ex.path}: {'no token' if s is None else s}" for ex, s in wrong[:3])
        return failed(
            f"{len(wrong)} of {len(calls)} call(s) not signed as version {p.version} wants ({told}): {shown}",
            len(calls),
            [ex.id for ex, _ in wrong],
        )
    return passed(f"{len(calls)} call(s), each carrying its token as version {p.version} wants ({told})", len(calls))


def wrong_scheme_refused(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    """The server's side: a call signed the other version's way is refused with the version's own error (an
    envelope with Status 2, Unauthorized), never served."""
    wanted = "header" if (p.version or "23").startswith("23") else "parameter"
    wrong = [ex for ex in exchanges if ex.operation and not _signs_in(ex) and ex.status is not None
             and _scheme(ex) not in (wanted, "both")]  # fmt: skip
    if not wrong:
        return not_covered(NEEDS_WRONG)
    served = [ex for ex in wrong if cw_status(ex) != 2]
    if served:
        shown = "; ".join(f"#{ex.id} {ex.path}: Status {cw_status(ex)}" for ex in served[:3])
        return failed(f"{len(served)} call(s) signed the wrong way not refused as Unauthorized: {shown}", len(wrong),
                      [ex.id for ex in served])  # fmt: skip
    return passed(f"{len(wrong)} call(s) signed the wrong way, each refused with Status 2", len(wrong))


NEEDS = "a Cityworks call made after signing in"
NEEDS_WRONG = "a Cityworks call signed another version's way (or not at all)"
RULES = (
    Rule("version-auth-scheme", "client", {"cityworks": ("CW-VER-2",)}, NEEDS, version_auth_scheme),
    Rule("wrong-auth-scheme-refused", "server", {"cityworks": ("CW-VER-2",)}, NEEDS_WRONG, wrong_scheme_refused),
)
