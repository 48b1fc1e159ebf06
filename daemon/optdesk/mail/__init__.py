"""Pure mail parsing and reply-text extraction: bytes in, plain data out, no I/O."""

from optdesk.mail.html import html_to_text
from optdesk.mail.newtext import NewText, extract_new_text
from optdesk.mail.parse import ParsedMail, decode_header_value, parse_message

__all__ = [
    "NewText",
    "ParsedMail",
    "decode_header_value",
    "extract_new_text",
    "html_to_text",
    "parse_message",
]
