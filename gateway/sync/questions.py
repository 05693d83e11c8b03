"""Question sync (CW-QA-1..4): each synced SR category's Cityworks questions become its questions, typed by
their answers' formats (gateway.domain.answer_formats: fixed answers a list of choices, a free answer text,
a number or a date-time); private when the text mentions e-mail or phone, always required; a category whose
auto-sync switch is off is left exactly as the administrator made it (CW-QA-3)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import Http
from ..domain.answer_formats import shape
from ..domain.questions import synced_is_public, synced_is_required
from ..storage import repo
from ..storage import schema as t
from .vendors import connector


def questions_from_qa(qa: dict[str, Any]) -> list[dict[str, Any]]:
    """Cityworks QA -> the gateway's question rows (pure); each answer format read as answer_formats says."""
    answers: dict[int, list[dict[str, Any]]] = {}
    for a in qa.get("Answers") or []:
        answers.setdefault(a["QuestionId"], []).append(a)
    out = []
    for q in sorted(qa.get("Questions") or [], key=lambda q: (q.get("QuestionSequence", 0), q["QuestionId"])):
        options = sorted(answers.get(q["QuestionId"], []), key=lambda a: (a.get("AnswerSequence", 0), a["AnswerId"]))
        asked = shape(options)
        if asked is None:
            continue  # no answers, or only ones Cityworks calculates: nothing to ask
        text = q["Question"][:1000]
        out.append(
            {
                "code": f"Q{q['QuestionId']}",
                "text": text,
                "datatype": asked.datatype,
                "required": synced_is_required(True),
                "public": synced_is_public(text),
                "position": len(out) + 1,
                "integration_key": None,
                "choices": json.dumps([{"key": str(key), "name": name[:200]} for key, name in asked.choices]),
                "synced": True,
                "vendor_ref": json.dumps(
                    {"question": q["QuestionId"], "answer": asked.free_answer, "format": asked.fmt}
                ),
            }
        )
    return out


async def sync_questions(engine: AsyncEngine, http: Http, integration: dict[str, Any]) -> dict[str, int]:
    cw = connector(http, integration)
    c, q = t.categories, t.questions
    counts = {"categories": 0, "skipped": 0, "created": 0, "updated": 0, "removed": 0}
    async with engine.connect() as conn:
        categories = await repo.many(
            conn, c.select().where(c.c.integration_id == integration["id"], c.c.active.is_(True))
        )
    for category in categories:
        if not category["auto_sync_questions"] or (category["mode"] or "sr") != "sr":
            counts["skipped"] += 1  # CW-QA-3: switched off; CW-QA-1: SR only
            continue
        qa = await cw.call("/Services/Ams/ServiceRequest/QA", {"ProblemSid": int(category["vendor_id"])}) or {}
        wanted = {row["code"]: row for row in questions_from_qa(qa)}
        async with engine.begin() as conn:
            current = {
                r["code"]: r
                for r in await repo.many(
                    conn, q.select().where(q.c.category_id == category["id"], q.c.synced.is_(True))
                )
            }
            for code, row in wanted.items():
                if code not in current:
                    await repo.insert(conn, q, {**row, "category_id": category["id"]})
                    counts["created"] += 1
                elif any(current[code][k] != v for k, v in row.items()):
                    await repo.update(conn, q, current[code]["id"], row)
                    counts["updated"] += 1
            gone = [r["id"] for code, r in current.items() if code not in wanted]
            if gone:
                await conn.execute(q.delete().where(q.c.id.in_(gone)))
                counts["removed"] += len(gone)
            if gone or any(code not in current for code in wanted):
                await repo.update(conn, c, category["id"], {"updated_at": repo.now()})
        counts["categories"] += 1
    return counts


async def answers_of(conn: Any, request_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each request's answers with what delivery needs of their questions: one query for a batch."""
    an, q = t.answers, t.questions
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in request_ids}
    query = (
        sa.select(an.c.request_id, an.c.value, q.c.vendor_ref, q.c.datatype, q.c.synced, q.c.integration_key)
        .join(q, an.c.question_id == q.c.id)
        .where(an.c.request_id.in_(request_ids))
        .order_by(q.c.position, q.c.id)
    )
    for r in await repo.many(conn, query):
        out[r["request_id"]].append(r)
    return out
