"""Text as the services store it.

A name is one line: a line break typed in a form or sent through the API would show as a fake line in an e-mail body
or a CSV cell, so the services pass every single-line name (organisations, recipients' organisations, contacts,
workspaces, received machines, a sharing's reference) through `single_line`."""

import re

#: Line breaks and other control characters (C0, DEL, C1 with NEL, the Unicode line and paragraph separators), with
#: the blanks around them.
_BREAKS = re.compile(r"[ \t]*[\x00-\x1f\x7f-\x9f\u2028\u2029][\x00-\x20\x7f-\x9f\u2028\u2029]*")
_SPACES = re.compile(r" {2,}")


def single_line(text: str | None) -> str:
    """`text` on one line: each run of line breaks and control characters becomes one space, runs of spaces one
    space, and the ends are trimmed. Other characters (a non-breaking space, say) are kept."""
    if not text:
        return ""
    return _SPACES.sub(" ", _BREAKS.sub(" ", text)).strip()
