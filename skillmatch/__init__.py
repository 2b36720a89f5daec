"""SkillMatch domain: people, CV documents, Jira and ERP data, and candidate search."""

__version__ = "0.1.0"
