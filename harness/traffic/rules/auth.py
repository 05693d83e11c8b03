"""The version's auth scheme (CW-VER-2): before Cityworks 23 a signed-in call carries its token as the `token`
parameter (query or form); from 23 on as `Authorization: cityworks <token>`. The version comes from the proxy's
`--version` (23 unless told); a wrong version makes every call look wrong, which the message says."""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis import Profile
from ..exchange import Exchange
from .model import Judgement, Rule, failed, not_covered, passed
from .reading import parameter

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


NEEDS = "a Cityworks call made after signing in"
RULES = (Rule("version-auth-scheme", "client", {"cityworks": ("CW-VER-2",)}, NEEDS, version_auth_scheme),)
