"""Deterministic seed data for the Cityworks simulator: a city's problem catalogue with questions,
work order templates, service requests in the demo city, work orders and comments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from simulators.kit import Seeder
from simulators.kit import city as demo_city

from .dialect import cw_date

if TYPE_CHECKING:
    from .state import CityworksState

PROBLEMS = [
    ("POTHOLE", "Pothole"),
    ("STLIGHT", "Streetlight Out"),
    ("GRAFFITI", "Graffiti Removal"),
    ("MISSTRASH", "Missed Trash Pickup"),
    ("SIGNDMG", "Damaged Street Sign"),
    ("SIDEWALK", "Sidewalk Repair"),
    ("TREEDOWN", "Tree Down"),
    ("DUMPING", "Illegal Dumping"),
    ("WATERLEAK", "Water Leak"),
    ("SEWER", "Sewer Backup"),
    ("ABANDVEH", "Abandoned Vehicle"),
    ("SIGNAL", "Traffic Signal Malfunction"),
    ("DRAIN", "Storm Drain Clogged"),
    ("PARKMAINT", "Park Maintenance"),
    ("DEADANIMAL", "Dead Animal Removal"),
    ("SNOW", "Snow and Ice Removal"),
    ("CURB", "Curb Damage"),
    ("WEEDS", "Overgrown Weeds"),
    ("LITTER", "Litter"),
    ("BULKITEM", "Bulk Item Pickup"),
    ("RECYCLE", "Missed Recycling"),
    ("HYDRANT", "Damaged Fire Hydrant"),
    ("MANHOLE", "Missing Manhole Cover"),
    ("FLOOD", "Street Flooding"),
    ("BIKELANE", "Bike Lane Obstruction"),
    ("CROSSWALK", "Faded Crosswalk"),
    ("BUSSTOP", "Damaged Bus Stop"),
    ("PLAYGRND", "Playground Equipment"),
    ("WATERMAIN", "Water Main Break"),
    ("NOISE", "Construction Noise"),
]
# (question text, answers as (text, AnswerFormat)); several mention email/phone so the privacy rule has work to
# do. The formats are Cityworks' own (QuestAnswerFormat: THISTEXT, YES, NO, FREETEXT, NUMERIC, DATE, CHECKED,
# CALCULATED ...); a Yes/No question is a YES answer and a NO answer.
YES_NO = [("Yes", "YES"), ("No", "NO")]
QUESTIONS = [
    ("Is the hazard blocking traffic?", YES_NO),
    ("How large is the problem?", [("Small", "THISTEXT"), ("Medium", "THISTEXT"), ("Large", "THISTEXT")]),
    ("What is your email address?", [("", "FREETEXT")]),
    ("Best phone number to reach you", [("", "FREETEXT")]),
    ("Describe the exact location", [("", "FREETEXT")]),
    ("How many days has this been a problem?", [("", "NUMERIC")]),
    ("Would you like a call back by Phone?", YES_NO),
    ("Is anyone injured?", [("Yes", "YES"), ("No", "NO"), ("Unknown", "UNKNOWN")]),
    ("E-mail for updates (optional)", [("", "FREETEXT")]),
    ("When did you first notice it?", [("", "DATE")]),
    ("Is it near a school?", YES_NO),
    ("Which side of the street?", [(s, "THISTEXT") for s in ("North", "South", "East", "West")]),
    ("Is the area fenced off?", [("Fenced off", "CHECKED")]),
    ("Estimated repair cost", [("", "CALCULATED")]),
]
# A seeded answer's value per format: free answers carry a value Cityworks would take, fixed ones none.
SEEDED_VALUES = {"FREETEXT": "seeded", "NUMERIC": "3", "DATE": "2024-01-15T00:00:00"}
TEMPLATES = [
    ("STREET", "Street Repair"),
    ("STREET", "Pothole Patching"),
    ("SIGN", "Sign Replacement"),
    ("LIGHT", "Streetlight Repair"),
    ("TREE", "Tree Removal"),
    ("PIPE", "Water Main Repair"),
    ("PIPE", "Sewer Line Cleaning"),
    ("INLET", "Storm Inlet Cleaning"),
    ("HYDRANT", "Hydrant Repair"),
    ("PARK", "Park Cleanup"),
]
STATUS_MIX = ["OPEN"] * 6 + ["INPROG"] * 2 + ["CLOSED"] * 3 + ["PENDING", "WOCREATE", "CANCEL"]
APPS = ["", "", "", "", "CityworksUI", "Respond", "CrowdsourceReporter"]
COMMENTS = [
    "Crew dispatched.",
    "To SCF: A crew has been scheduled for this week.",
    "Called the resident, no answer.",
    "  To SCF: Thanks for reporting, this has been fixed.",
    "Materials ordered.",
    "To SCF: We inspected the site and added it to the repair list.",
    "to scf: lower-case prefix, not for the public",
    "Duplicate of an earlier request.",
]


def seed_state(state: CityworksState, seed: int, sizes: Mapping[str, int]) -> None:
    with state.seeding():
        _seed(state, seed, sizes)


def _seed(state: CityworksState, seed: int, sizes: Mapping[str, int]) -> None:
    s = Seeder(seed)
    rng = s.rng
    clerk = next(iter(state.employees.values()))

    for n in range(sizes["problems"]):
        code, description = PROBLEMS[n % len(PROBLEMS)]
        round_ = n // len(PROBLEMS)
        if round_:
            code, description = f"{code}{round_ + 1}", f"{description} ({s.pick('city_suffix')} district {round_ + 1})"
        problem = state.add_problem(code, description, public=rng.random() < 0.75)
        for text, answers in rng.sample(QUESTIONS, rng.randrange(0, 5)):
            state.add_question(problem["ProblemSid"], text, answers)
        qa = state.qa[problem["ProblemSid"]]
        if len(qa["Questions"]) >= 3 and rng.random() < 0.4:
            branch(qa)

    for n in range(sizes["templates"]):
        entity, description = TEMPLATES[n % len(TEMPLATES)]
        suffix = f" {n // len(TEMPLATES) + 1}" if n >= len(TEMPLATES) else ""
        state.add_template(str(101 + n), description + suffix, entity, "MAINT", public=rng.random() < 0.7)

    problem_sids = list(state.problems)
    mixed = sizes["requests"]
    points = demo_city.random_points(rng, mixed + sizes.get("open_requests", 0))
    for n, (lon, lat) in enumerate(points):
        if not problem_sids:
            break
        sid = problem_sids[rng.randrange(len(problem_sids))]
        qa = state.qa[sid]
        answers = [
            {"AnswerId": a["AnswerId"], "AnswerValue": SEEDED_VALUES.get(a["AnswerFormat"], "")}
            for a in qa["Answers"][:1]
        ]
        when = cw_date((s.timestamp(days_back=720)).replace(tzinfo=None))
        first, last = s.pick("first_name"), s.pick("last_name")
        state.create_request(
            {
                "ProblemSid": sid,
                "X": lon,
                "Y": lat,
                "Address": f"{rng.randrange(1, 9999)} {s.pick('street_name')}",
                "City": demo_city.NAME,
                "State": demo_city.STATE,
                "Zip": demo_city.POSTAL_CODES[n % len(demo_city.POSTAL_CODES)],
                "Details": s.pick("sentence"),
                "Status": STATUS_MIX[rng.randrange(len(STATUS_MIX))] if n < mixed else "OPEN",
                "InitiatedByApp": APPS[rng.randrange(len(APPS))],
                "CallerFirstName": first,
                "CallerLastName": last,
                "CallerEmail": f"{first}.{last}@example.org".lower(),
                "Answers": answers,
            },
            clerk,
            when=when,
        )
    for sr in state.requests.values():  # closed/canceled states keep their flags consistent
        if sr["Status"] == "CLOSED":
            sr.update(IsClosed=True, DateTimeClosed=sr["DateTimeInit"])
        elif sr["Status"] == "CANCEL":
            sr.update(Cancel=True, DateCancelled=sr["DateTimeInit"])

    template_ids = list(state.templates)
    for _ in range(sizes["work_orders"]):
        if not template_ids:
            break
        template = state.templates[template_ids[rng.randrange(len(template_ids))]]
        lon, lat = demo_city.random_point(rng)
        when = cw_date((s.timestamp(days_back=720) + timedelta(hours=1)).replace(tzinfo=None))
        state.create_work_order(
            {
                "EntityType": template["ApplyToEntity"],
                "WOTemplateId": template["WOTemplateId"],
                "X": lon,
                "Y": lat,
                "Address": f"{rng.randrange(1, 9999)} {s.pick('street_name')}",
            },
            clerk,
            when=when,
        )

    request_ids = list(state.requests)
    for _ in range(sizes["comments"] if request_ids else 0):
        rid = request_ids[rng.randrange(len(request_ids))]
        state.add_comment(1, rid, COMMENTS[rng.randrange(len(COMMENTS))], clerk)
        stored = state.comments[(1, rid)][-1]  # seeded data carries seeded dates, not the wall clock
        stored["DateCreated"] = stored["LastModified"] = state.requests[rid]["DateTimeInit"]


def branch(qa: dict) -> None:
    """Branching QA: the first question's first answer skips straight to the last question."""
    first, last = qa["Questions"][0]["QuestionId"], qa["Questions"][-1]["QuestionId"]
    qa["BranchingModel"] = True
    for answer in qa["Answers"]:
        if answer["QuestionId"] == first:
            answer["NextQuestionId"] = last
            break
