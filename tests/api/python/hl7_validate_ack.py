"""Validates an HL7 v2 ACK (stdin) with hl7apy in strict mode against the ACK structure of
its own version (MSH-12). Prints "valid" or the error, exits 1 on an invalid ACK."""
import sys

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_segments

text = sys.stdin.read()
version = text.split("\r", 1)[0].split("|")[11]
try:
    # The ACK structure by name: hl7apy looks up 2.3 ACKs as ACK_<trigger>, which 2.3 lacks.
    message = Message("ACK", version=version, validation_level=VALIDATION_LEVEL.STRICT)
    segments = parse_segments(text, version=version, validation_level=VALIDATION_LEVEL.STRICT)
    message.msh = segments[0]  # replaces the MSH hl7apy made with the message
    for segment in segments[1:]:
        message.add(segment)
    message.validate()
    print("valid")
except Exception as error:  # any hl7apy error is an invalid ACK
    print(f"invalid {version}: {type(error).__name__}: {error}")
    sys.exit(1)
