"""Which file URLs name the same question file across attempts, and the bounded keeping of them."""

from __future__ import annotations

from archived.drivers.activity.quiz.question_files import QuestionFiles, question_file_key
from archived.drivers.worker.render_task import Resource

SITE = "https://moodle.example/webservice/pluginfile.php"


def test_the_same_question_file_under_two_attempts_has_one_key() -> None:
    first = question_file_key(f"{SITE}/13/question/questiontext/1/6/6/triangle%20diagram.png?token=abc")
    second = question_file_key(f"{SITE}/13/question/questiontext/917/2/6/triangle%20diagram.png")
    assert first == second == ("13", "question", "questiontext", "6", "triangle diagram.png")
    other_question = question_file_key(f"{SITE}/13/question/questiontext/1/6/7/triangle%20diagram.png")
    assert other_question is not None and other_question != first
    plugin = question_file_key(f"{SITE}/13/qtype_ddimageortext/bgimage/5/3/40/sub/map.png")
    assert plugin == ("13", "qtype_ddimageortext", "bgimage", "40", "sub/map.png")


def test_students_files_and_other_urls_have_none() -> None:
    assert question_file_key(f"{SITE}/26/question/response_attachments/1/11/22/Skizze.pdf") is None
    assert question_file_key(f"{SITE}/26/mod_assign/submission_files/4/Essay.pdf") is None
    assert question_file_key("https://elsewhere.example/picture.png") is None
    assert question_file_key(f"{SITE}/13/question/questiontext/x/6/6/a.png") is None  # not a usage id


def test_kept_files_are_bounded_by_size_least_recently_used_out() -> None:
    files = QuestionFiles(max_bytes=400)
    url = f"{SITE}/13/question/questiontext/1/1/{{}}/a.png"
    for number in range(1, 5):
        files.put(url.format(number), Resource(b"x" * 100, "image/png"))
    assert files.get(url.format(1).replace("/1/1/", "/9/1/")) is not None  # 1 is now the most recent
    files.put(url.format(5), Resource(b"x" * 100, "image/png"))  # 500 bytes: the least recent (2) goes
    assert files.get(url.format(2)) is None
    assert all(files.get(url.format(n)) is not None for n in (1, 3, 4, 5))
    files.put(url.format(6), Resource(b"x" * 101, "image/png"))  # over a quarter of the bound: not kept
    assert files.get(url.format(6)) is None
