"""The mail the portal sends a citizen (H-AUTH-3). The gateway queues it in the `mail` table; a mail relay
(or a person, through `GET /admin/v1/mail`, as with a development mail catcher) delivers it."""

from __future__ import annotations

SIGN_UP_ANSWER = (
    "Check your e-mail: we sent a message to this address. If it holds a code, confirm your address with it "
    "(POST /portal/v1/citizens/confirm)."
)


def confirm_sign_up(code: str) -> tuple[str, str]:
    return (
        "Confirm your e-mail address",
        "Someone (we hope you) signed up for the citizen portal with this address.\n\n"
        f"Your confirmation code: {code}\n\n"
        "It works once, for 24 hours. If it was not you, ignore this message: no account is made without it.",
    )


def account_exists() -> tuple[str, str]:
    return (
        "You already have an account",
        "Someone (we hope you) tried to sign up for the citizen portal with this address, which has an account "
        "already. Sign in with your password instead. If it was not you, ignore this message: nothing changed.",
    )
