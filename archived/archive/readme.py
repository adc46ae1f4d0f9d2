"""README.txt inside every archive: how to verify it in plain words, without archived and without Moodle."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

README_TEMPLATE = """\
This is an archive made by archived, a long-term archiving system for Moodle exam data.
Archive: {bag_name}
Job: {job_id}

WHAT IS IN HERE
This folder is a "bag" in the BagIt format (RFC 8493, version 1.0), a standard of the Library of Congress
for transferring and keeping digital content. It has:
  data/                  the archived content (reports as PDF/A, files, data/job.json with the details
                         of this archive: who and what is in it, when and how it was made)
  data/backups/          if present: the Moodle backup (.mbz) of the course or activity, as Moodle made it
  data/operator/         if present: files operators added (operator-files.json: who added each, when, why)
  bag-info.txt           facts about the archive (source, date, course, activity, retention)
  manifest-sha256.txt    a SHA-256 checksum of every file under data/
  manifest-sha512.txt    a SHA-512 checksum of every file under data/
  tagmanifest-*.txt      checksums of the files outside data/ (these texts, the manifests)
  timestamps/            if present: RFC 3161 timestamps that prove the archive existed at a given time

HOW TO CHECK THAT NOTHING WAS CHANGED
You need no special software. After unpacking the ZIP, in this folder:

1. With the standard tools of Linux or macOS:
       sha256sum -c manifest-sha256.txt       (macOS: shasum -a 256 -c manifest-sha256.txt)
       sha512sum -c manifest-sha512.txt
       sha256sum -c tagmanifest-sha256.txt
   Every line must end in "OK". Also check that data/ holds no file that the manifest does not list.

2. With the BagIt tool of the Library of Congress (Python, https://github.com/LibraryOfCongress/bagit-python):
       pip install bagit
       bagit.py --validate .
   It checks all of the above, including that no file is missing or extra and the Payload-Oxum
   (total size and number of files) in bag-info.txt.

3. With archived itself, without unpacking:
       archived verify {bag_name}.zip

4. The timestamp, if the folder timestamps/ exists: timestamps/tagmanifest-sha512.txt.tsr is an RFC 3161
   time-stamp response over tagmanifest-sha512.txt, signed by a time-stamp authority (TSA), and
   timestamps/tagmanifest-sha512.txt.chain.pem the certificates that check it. With OpenSSL, in this folder:
       openssl ts -verify -data tagmanifest-sha512.txt -in timestamps/tagmanifest-sha512.txt.tsr
                          -CAfile timestamps/tagmanifest-sha512.txt.chain.pem
   (one command on one line).
   "Verification: OK" proves that tagmanifest-sha512.txt existed unchanged at the time the response states
   (openssl ts -reply -in timestamps/tagmanifest-sha512.txt.tsr -text shows it and the TSA's name). That file
   holds the checksums of the manifests, which hold the checksums of every file: with steps 1 or 2, the whole
   archive is proven unchanged since then. If the TSA's certificate has expired since, add -attime followed by
   that time in seconds since 1970 (date -d '<time>' +%s): the check is then made as of that moment. Compare
   the root certificate in the .chain.pem with the one the TSA publishes
   (openssl x509 -in timestamps/tagmanifest-sha512.txt.chain.pem -noout -fingerprint -sha256 shows the first
   certificate; the root is the last one).

PDF/A reports can be opened with any PDF reader and are made for long-term readability.
"""


def archive_readme(*, bag_name: str, job_id: str, completeness: Sequence[str] = ()) -> str:
    """The README.txt of one archive; `completeness`: the activity driver's statement of what it checked, in lines."""
    text = README_TEMPLATE.format(bag_name=bag_name, job_id=job_id)
    if completeness:
        statement = "\n".join(textwrap.fill(line, 112, subsequent_indent="  ") for line in completeness)
        text += (
            "\nCOMPLETENESS\nWhat was checked so that nothing is missing (details under summary.completeness in "
            f"data/job.json):\n{statement}\n"
        )
    return text
