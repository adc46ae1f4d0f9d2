"""GDPR requests: which people are inside which stored archive (read from the archives themselves, verified), every
archive holding one person's data, and an export of only that person's files; every lookup and export is audited."""
