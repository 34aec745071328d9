"""Reading inbound mail: pure functions from raw bytes to a typed `ParsedMessage`.

No database, no clock, no network. The entry point is `parse.parse_message`.
"""
