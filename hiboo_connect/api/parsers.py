"""The API's JSON body parser: DRF's, with a bound on nesting.

Python's parser recurses once per level and runs out of stack at about a thousand (a 14 kB body of brackets answered
500). No request of the API nests beyond a few levels (a sharing's properties are one), so anything deeper than
MAX_DEPTH is refused as malformed before a serializer, the idempotency fingerprint or a service sees it."""

import io

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: Levels of arrays and objects a request body may nest.
MAX_DEPTH = 20


def json_too_deep(raw: bytes | str, max_depth: int = MAX_DEPTH) -> bool:
    """True when the JSON text opens more than `max_depth` arrays or objects at once (read without recursing, brackets
    inside strings ignored). Cheap enough to run on every body before parsing it."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


class JsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if json_too_deep(raw):
            raise ParseError(_("The JSON body is nested too deeply (%d levels at most).") % MAX_DEPTH)
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:  # not reached below MAX_DEPTH; kept so no body can ever answer 500
            raise ParseError(_("The JSON body is nested too deeply (%d levels at most).") % MAX_DEPTH) from None
