"""Pure parsers: text in, records out. No database, no HTTP."""

PARSER_VERSION = 8
