"""Pure parsers: text in, records out. No database, no HTTP."""

import hashlib
import json
from functools import cache
from importlib import resources

PARSER_VERSION = 11


@cache
def parser_stamp() -> str:
    """What the parsed tables were made with: the parser version and the review rules (parse fills
    report_findings), so a changed rule table re-parses a database as a changed parser does (its notes, keys
    starting with "_", do not count)."""
    return rules_stamp(
        resources.files("bzmine").joinpath("data/review_rules.json").read_text(encoding="utf-8")
    )


def rules_stamp(text: str) -> str:
    """The parser version and a digest of a review-rules file's rules: its notes (top-level keys starting with "_",
    such as "_about") do not count, so editing them re-parses no database."""
    rules = json.loads(text)
    kept = {k: v for k, v in rules.items() if not k.startswith("_")}
    digest = hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{PARSER_VERSION}.{digest[:8]}"
