"""Pure parsers: text in, records out. No database, no HTTP."""

import hashlib
from functools import cache
from importlib import resources

PARSER_VERSION = 10


@cache
def parser_stamp() -> str:
    """What the parsed tables were made with: the parser version and the review rules (parse fills
    report_findings), so a changed rule table re-parses a database as a changed parser does."""
    rules = resources.files("bzmine").joinpath("data/review_rules.json").read_bytes()
    return f"{PARSER_VERSION}.{hashlib.sha256(rules).hexdigest()[:8]}"
