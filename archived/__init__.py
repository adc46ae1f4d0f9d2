"""archived: long-term archiving of Moodle exam data."""

__version__ = "0.1.0"
