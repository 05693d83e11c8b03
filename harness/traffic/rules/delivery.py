"""What a gateway must do when it writes to a vendor, judged from the conversation alone: one record per reference
(CW-SUB-1, OG-REQ-1), comments once and in order (CW-COM-1, OG-COM-1), no duplicate requesters (OG-RQR-1),
attachments stored byte for byte (CW-SUB-2, OG-API-6), and the vendor giving comments back in order
(CW-API-2, OG-API-4).

What "in order" can mean on the wire: the gateway's own order is not on the wire, but its first attempts are,
so the order in which comments were first sent is taken as the order meant, and the order in which they took
effect must match it (a comment that failed, was overtaken and re-sent landed out of order). A gateway that sends
its comments in the wrong order from the first attempt cannot be caught from this side of it alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise

from ..analysis import Profile
from ..exchange import Exchange
from .model import Judgement, Rule, failed, not_covered, passed
from .writes import (
    Lookup,
    Write,
    comment_reads,
    comments,
    creates,
    downloads,
    reference_lookups,
    requester_lookups,
    uploads,
)
from .writes import requesters as requester_writes

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _grouped(writes: Sequence[Write]) -> dict[str, list[Write]]:
    out: dict[str, list[Write]] = defaultdict(list)
    for w in sorted(writes, key=lambda w: (w.ex.started, w.ex.id)):
        out[w.key].append(w)
    return out


def _looked_up(lookups: Sequence[Lookup], needle: str, after: float, before: float, exact: bool = True) -> bool:
    return any(
        after <= lk.ex.started <= before and (lk.key == needle if exact else needle.lower() in lk.key.lower())
        for lk in lookups
    )


def _resent_blind(group: Sequence[Write], lookups: Sequence[Lookup], exact: bool) -> list[tuple[Write, Write]]:
    """(an uncertain attempt, the attempt after it) with no look-up of the same thing in between."""
    return [
        (prev, nxt)
        for prev, nxt in pairwise(group)
        if prev.uncertain and not _looked_up(lookups, prev.key, prev.ex.ended, nxt.ex.started, exact)
    ]


def one_create_per_reference(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    groups = _grouped(creates(p, exchanges))
    if not groups:
        return not_covered(NEEDS_CREATES)
    lookups = reference_lookups(p, exchanges)
    problems: list[str] = []
    evidence: list[int] = []
    for reference, group in groups.items():
        made = [w for w in group if w.ok]
        if len(made) > 1:
            problems.append(f"{reference!r} created {len(made)} times (#{', #'.join(str(w.ex.id) for w in made)})")
            evidence += [w.ex.id for w in made]
        for prev, nxt in _resent_blind(group, lookups, exact=p.kind == "cityworks"):
            problems.append(
                f"{reference!r} re-sent (#{nxt.ex.id}) after an answer that left it uncertain (#{prev.ex.id}) without "
                "looking the reference up: a second record if the first took effect"
            )
            evidence += [prev.ex.id, nxt.ex.id]
    if problems:
        return failed("; ".join(problems[:5]), len(groups), evidence)
    return passed(f"{len(groups)} reference(s), each created once", len(groups))


def comments_in_order_once(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    groups = _grouped(comments(p, exchanges))
    if not groups:
        return not_covered(NEEDS_COMMENTS)
    reads = [Lookup(lk.key, lk.ex) for lk in comment_reads(p, exchanges)]
    problems: list[str] = []
    evidence: list[int] = []
    for record, group in groups.items():
        landed = [w for w in group if w.ok]
        seen: dict[str, Write] = {}
        for w in landed:
            if w.value in seen:
                problems.append(f"record {record}: {w.value[:60]!r} added twice (#{seen[w.value].ex.id}, #{w.ex.id})")
                evidence += [seen[w.value].ex.id, w.ex.id]
            seen.setdefault(w.value, w)
        meant = list(dict.fromkeys(w.value for w in group))  # the order of first attempts
        done = list(dict.fromkeys(w.value for w in landed))
        for earlier, later in pairwise(done):
            if meant.index(earlier) > meant.index(later):
                first = next(w for w in group if w.value == later)
                problems.append(
                    f"record {record}: {later[:60]!r} took effect after {earlier[:60]!r} though first sent before it"
                )
                evidence += [first.ex.id, seen[earlier].ex.id, seen[later].ex.id]
        for prev, nxt in _resent_blind(group, reads, exact=True):
            if prev.value == nxt.value:
                problems.append(
                    f"record {record}: {prev.value[:60]!r} re-sent (#{nxt.ex.id}) after an uncertain answer "
                    f"(#{prev.ex.id}) without reading the record's comments first"
                )
                evidence += [prev.ex.id, nxt.ex.id]
    if problems:
        return failed("; ".join(problems[:5]), len(groups), evidence)
    total = sum(len({w.value for w in g if w.ok}) for g in groups.values())
    return passed(f"{total} comment(s) on {len(groups)} record(s), each once, in the order first sent", len(groups))


def comments_given_back_in_order(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    """The vendor's side: a read of a record's comments lists those added before it, in the order they took
    effect (other comments, a city worker's, may sit among them)."""
    added: dict[str, list[Write]] = defaultdict(list)  # by record, in the order they took effect
    for w in sorted((w for w in comments(p, exchanges) if w.ok), key=_end):
        added[w.key].append(w)
    judged = 0
    problems: list[str] = []
    evidence: list[int] = []
    for read in comment_reads(p, exchanges):
        earlier = [w for w in added.get(read.key, ()) if w.ex.ended <= read.ex.started]
        before = list(dict.fromkeys(w.value for w in earlier))
        if not before:
            continue
        judged += 1
        listed = iter(read.found)
        missing = [text for text in before if not any(text == t for t in listed)]
        if missing:
            problems.append(
                f"read #{read.ex.id} of record {read.key}: {missing[0][:60]!r} missing or out of order "
                f"(added: {len(before)}, answered: {len(read.found)})"
            )
            evidence.append(read.ex.id)
    if not judged:
        return not_covered(NEEDS_READBACK)
    if problems:
        return failed("; ".join(problems[:5]), judged, evidence)
    return passed(f"{judged} read(s) of comments, each giving back what was added, in order", judged)


def _end(w: Write) -> float:
    return w.ex.ended


def no_requester_duplicates(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    made = requester_writes(p, exchanges)
    if not made:
        return not_covered(NEEDS_REQUESTERS)
    # the first look-up naming each e-mail address (a filter holds the addresses it matches): one pass, not one per
    # create, since a gateway looks a requester up before every request it delivers
    first_lookup: dict[str, float] = {}
    for lk in requester_lookups(p, exchanges):
        for address in EMAIL.findall(lk.key):
            first_lookup[address.lower()] = min(first_lookup.get(address.lower(), lk.ex.started), lk.ex.started)
    problems: list[str] = []
    evidence: list[int] = []
    by_identity: dict[str, list[Write]] = defaultdict(list)
    for w in sorted(made, key=lambda w: (w.ex.started, w.ex.id)):
        if w.ok:
            by_identity[w.value].append(w)
        if first_lookup.get(w.key, float("inf")) > w.ex.started:
            problems.append(f"#{w.ex.id} created requester {w.value!r} without first looking for a match")
            evidence.append(w.ex.id)
    for who, group in by_identity.items():
        if len(group) > 1:
            problems.append(
                f"requester {who!r} created {len(group)} times (#{', #'.join(str(w.ex.id) for w in group)})"
            )
            evidence += [w.ex.id for w in group]
    if problems:
        return failed("; ".join(problems[:5]), len(made), evidence)
    return passed(f"{len(by_identity)} requester(s) created, each once and after looking for a match", len(made))


def attachments_byte_exact(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    sent = {u.attachment_id: u for u in uploads(p, exchanges)}
    pairs = [(sent[aid], ex) for aid, ex in downloads(p, exchanges) if aid in sent]
    if not pairs:
        return not_covered(NEEDS_ATTACHMENTS)
    bad = [(u, ex) for u, ex in pairs if u.sha256 != ex.response_sha256]
    if bad:
        shown = "; ".join(
            f"{u.filename!r} sent as {u.size} bytes (#{u.ex.id}), stored as {ex.response_size} other bytes (#{ex.id})"
            for u, ex in bad[:3]
        )
        return failed(shown, len(pairs), [i for u, ex in bad for i in (u.ex.id, ex.id)])
    return passed(f"{len(pairs)} attachment(s) downloaded exactly as uploaded (SHA-256)", len(pairs))


NEEDS_CREATES = "a create carrying the gateway's reference (Cityworks OtherSystemId or Text1, OpenGov IntegrationID)"
NEEDS_COMMENTS = "a comment added to a vendor record"
NEEDS_READBACK = "a read of a record's comments after the client added one"
NEEDS_REQUESTERS = "an OpenGov requester created"
NEEDS_ATTACHMENTS = "an attachment uploaded and the same attachment downloaded later"

RULES = (
    Rule(
        "one-create-per-reference",
        "client",
        {"cityworks": ("CW-SUB-1",), "opengov": ("OG-REQ-1",)},
        NEEDS_CREATES,
        one_create_per_reference,
    ),
    Rule(
        "comments-once-in-order",
        "client",
        {"cityworks": ("CW-COM-1",), "opengov": ("OG-COM-1",)},
        NEEDS_COMMENTS,
        comments_in_order_once,
    ),
    Rule(
        "comments-given-back-in-order",
        "server",
        {"cityworks": ("CW-API-2",), "opengov": ("OG-API-4",)},
        NEEDS_READBACK,
        comments_given_back_in_order,
    ),
    Rule("no-requester-duplicates", "client", {"opengov": ("OG-RQR-1",)}, NEEDS_REQUESTERS, no_requester_duplicates),
    Rule(
        "attachments-byte-exact",
        "server",
        {"cityworks": ("CW-SUB-2",), "opengov": ("OG-API-6",)},
        NEEDS_ATTACHMENTS,
        attachments_byte_exact,
    ),
)
