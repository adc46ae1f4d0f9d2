"""Where the quiz driver puts files when attempts share folders or file names (pure functions)."""

from __future__ import annotations

from archived_quiz.attempt_paths import AttemptPaths, plan_paths, unique_file_name


def test_plan_paths_shares_folders_safely() -> None:
    plans = plan_paths(
        {7: "zotsuka", 3: "ZOTSUKA", 5: "amartin"},
        {7: "report", 3: "Report", 5: "report"},
    )
    assert plans[3] == AttemptPaths("attempts/ZOTSUKA", "attempts/ZOTSUKA/Report", "attempts/ZOTSUKA/attachments/3")
    assert plans[7] == AttemptPaths(
        "attempts/zotsuka", "attempts/zotsuka/report_7", "attempts/zotsuka/attachments/7"
    )  # same folder on a case-insensitive file system: name and attachments made unique, lowest id first
    assert plans[5] == AttemptPaths("attempts/amartin", "attempts/amartin/report", "attempts/amartin/attachments")


def test_unique_file_name() -> None:
    assert unique_file_name("scan.pdf", set()) == "scan.pdf"
    assert unique_file_name("Scan.pdf", {"scan.pdf"}) == "Scan-2.pdf"
    assert unique_file_name("scan.pdf", {"scan.pdf", "scan-2.pdf"}) == "scan-3.pdf"
    assert unique_file_name("README", {"readme"}) == "README-2"
    long = "y" * 240
    assert len(unique_file_name(long, {long})) == 240


def test_a_suffixed_name_does_not_take_another_attempts_name() -> None:
    plans = plan_paths({3: "f", 5: "f", 7: "f"}, {3: "report", 5: "report_7", 7: "report"})
    stems = {attempt_id: plan.stem for attempt_id, plan in plans.items()}
    assert stems == {3: "attempts/f/report", 5: "attempts/f/report_7", 7: "attempts/f/report_7-2"}
    long = "z" * 240
    assert len(plan_paths({1: "f", 2: "f"}, {1: long, 2: long})[2].stem.rsplit("/", 1)[1]) == 240
