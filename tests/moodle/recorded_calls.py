"""The Python parameters behind each recorded REST request, keyed by fixture number.

Encoding these must give exactly the recorded form fields, in the recorded order. Fixtures 44/52 (no
wsfunction at all) cannot be produced by a client that always names its function, so they are not listed.
"""

from __future__ import annotations

from typing import Any

ENROLLED_USERFIELDS = "id,username,idnumber,firstname,lastname,email,groups,roles"

PARAMS: dict[str, dict[str, Any] | None] = {
    "01": None,
    "02": None,
    "03": {"criteria": [{"key": "parent", "value": 2}], "addsubcategories": False},
    "04": None,
    "05": {"options": {"ids": [2, 3]}},
    "06": {"field": "id", "value": 2},
    "07": {"field": "category", "value": 3},
    "08": {"field": "ids", "value": "2,3,4"},
    "09": {"courseid": 2},
    "10": {"courseid": 4},
    "11": {"courseid": 2},
    "12": {
        "courseid": 2,
        "options": [
            {"name": "withcapability", "value": "mod/quiz:attempt"},
            {"name": "userfields", "value": ENROLLED_USERFIELDS},
            {"name": "limitfrom", "value": 0},
            {"name": "limitnumber", "value": 200},
        ],
    },
    "13": {"field": "idnumber", "values": ["4711001", "4711002", "4799999"]},
    "14": {"courseids": [2, 3]},
    "15": {"quizid": 1, "userid": 4, "status": "all", "includepreviews": False},
    "16": {"quizid": 1, "userid": 10, "status": "all", "includepreviews": False},
    "17": {"quizid": 1, "userid": 7, "status": "all", "includepreviews": False},
    "18": {"attemptid": 1, "page": -1},
    "19": {"attemptid": 5, "page": -1},
    "20": {"attemptid": 10, "page": -1},
    "21": {"quizid": 1, "userid": 3},
    "22": {"quizid": 1, "userid": 9},
    "23": {"quizid": 1, "grade": 97.92},
    "24": {"quizid": 1, "grade": 44.44},
    "25": {"courseids": [2], "includenotenrolledcourses": True},
    "26": {"courseids": [2]},
    "27": {"assignmentids": [1]},
    "28": {"assignmentids": [1]},
    "29": {"assignid": 1, "userid": 3},
    "30": {"assignid": 1, "userid": 6},
    "31": {"assignid": 1, "userid": 7},
    "32": {
        "assignid": 1,
        "groupid": 0,
        "filter": "",
        "skip": 0,
        "limit": 0,
        "onlyids": False,
        "includeenrolments": True,
        "tablesort": False,
    },
    "33": {
        "contextid": 25,
        "component": "mod_resource",
        "filearea": "content",
        "itemid": 0,
        "filepath": "/",
        "filename": "",
    },
    "34": {
        "contextid": -1,
        "component": "",
        "filearea": "",
        "itemid": 0,
        "filepath": "",
        "filename": "",
        "contextlevel": "course",
        "instanceid": 2,
    },
    "35": {
        "contextid": 25,
        "component": "mod_resource",
        "filearea": "content",
        "itemid": 0,
        "filepath": "/",
        "filename": "",
    },
    "36": {
        "contextid": -1,
        "component": "",
        "filearea": "",
        "itemid": 0,
        "filepath": "",
        "filename": "",
        "contextlevel": "module",
        "instanceid": 1,
    },
    "37": None,
    "38": None,
    "39": {"quizid": 1},
    "40": {"userid": 3},
    "41": {"courseid": 2, "foo": "bar"},
    "42": {"quizid": 1, "userid": 3, "status": "all", "includepreviews": "true"},
    "43": {"attemptid": 999999},
    "45": None,
    "46": None,
    "47": {"quizid": 1},
    "48": {"userid": 3},
    "49": {"courseid": 2, "foo": "bar"},
    "50": {"quizid": 1, "userid": 3, "status": "all", "includepreviews": "true"},
    "51": {"attemptid": 999999},
    "57": {"quizid": 1, "userid": 10, "status": "all", "includepreviews": False},
    "58": {"quizid": 1, "userid": 7, "status": "all", "includepreviews": False},
    "59": {"quizid": 1, "userid": 10, "status": "all", "includepreviews": False},
    "60": {"quizid": 1, "userid": 10, "status": "all", "includepreviews": False},
    "61": {"quizid": 2, "userid": 6, "status": "all", "includepreviews": False},
    "62": {"quizid": 2, "userid": 6, "status": "all", "includepreviews": False},
    "63": {"quizid": 2, "userid": 6, "status": "unfinished", "includepreviews": False},
    "64": {"courseid": 999999},
    "65": {"courseid": 999999},
}
"""Fixture number → the params dict a caller passes to `MoodleClient.call`."""

NOT_ENCODABLE = {"44", "52"}
"""Recordings without a wsfunction."""
