"""The independent parse the HL7 v2 tests compare yijia with: python-hl7 splits the message
into segments, fields, repetitions and components; the value of each OBX is rendered by its type
(SN joined, CE/CWE by its text, others whole) and its escapes decoded by python-hl7.
Reads one message on stdin, prints JSON."""
import json
import sys

import hl7

text = sys.stdin.read().replace("\r\n", "\r").replace("\n", "\r")
message = hl7.parse(text)


def field(segment, n):
    try:
        return segment[n]
    except IndexError:
        return ""


def component(segment, n, c):
    value = field(segment, n)
    if not value:
        return ""
    try:
        first = value[0] if isinstance(value[0], hl7.Repetition) else value
        return message.unescape(str(first[c - 1])).strip() if len(first) >= c else ""
    except (IndexError, TypeError):
        return message.unescape(str(value)).strip() if c == 1 else ""


def repetitions(segment, n):
    raw = str(field(segment, n))
    return [r for r in raw.split(message.separators[2] if len(message.separators) > 2 else "~")] if raw else []


def value_of(segment):
    kind = component(segment, 2, 1).upper()
    lines = []
    for rep in repetitions(segment, 5):
        parts = [message.unescape(p).strip() for p in rep.split("^")]
        if kind == "SN":
            lines.append("".join(parts[:4]))
        elif kind in ("CE", "CWE", "CNE"):
            lines.append(parts[1] if len(parts) > 1 and parts[1] else parts[0])
        elif kind in ("NM", "ST", "TX", "FT", ""):
            lines.append(message.unescape(rep))
        else:  # other composites: their components, shown side by side
            lines.append(" ".join(p for p in parts if p))
    value = "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n")
    return value.strip()


orders = []
for segment in message:
    name = str(segment[0])
    if name == "OBR":
        code = component(segment, 4, 1) or component(segment, 4, 4) or component(segment, 4, 2)
        orders.append({"code": code, "observed": component(segment, 7, 1), "results": []})
    elif name == "OBX" and orders:
        orders[-1]["results"].append({
            "code": component(segment, 3, 1) or component(segment, 3, 4),
            "value_type": component(segment, 2, 1).upper(),
            "value": value_of(segment),
            "unit": component(segment, 6, 1),
            "abnormal_flag": component(segment, 8, 1).upper(),
            "status": component(segment, 11, 1).upper() or "F",
        })
print(json.dumps({"control_id": str(message.segment("MSH")[10]), "orders": orders}, ensure_ascii=False))
