"""A meeting's whiteboard for people outside the live meeting: its operations (JSON), and the board
as SVG and PNG (drawn with Pillow).

Who reads it: whoever took part in the meeting, its organizers and moderators and holders of
Administrate rooms, as for the chat history (control.services.chat). The board drawn is
`control.domain.whiteboard.visible` over the stored operations, so an export shows what the meeting
showed at its last operation.
"""

import io
import math
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from control.domain.whiteboard import HEIGHT, WIDTH, Op, OpKind, ShapeKind, visible
from control.errors import Forbidden
from control.meetings.whiteboard_wire import decode
from control.services.attendance import AttendanceRecorder, may_report, meeting_for, user_person_keys
from control.services.context import Context
from control.store.repositories.whiteboard import WhiteboardOps
from control.types import Principal

BACKGROUND = "#ffffff"
ARROW_HEAD = 4.0
"""An arrow's head, in line widths."""


async def operations_for(ctx: Context, principal: Principal, meeting_id: str) -> list[Op]:
    """The meeting's whiteboard operations in order, for a caller who may read them (403 otherwise)."""
    meeting = await meeting_for(ctx, principal, meeting_id)
    took_part = await AttendanceRecorder(ctx.session, meeting.company_id).took_part(
        meeting.id, *user_person_keys(principal.user_id)
    )
    if not took_part and not await may_report(ctx, principal, meeting):
        raise Forbidden(
            "only people who took part in the meeting, its moderators and holders of 'Administrate rooms' "
            "read its whiteboard",
            code="not_a_participant",
        )
    rows = await WhiteboardOps(ctx.session, meeting.company_id).of_meeting(meeting.id)
    return [decode(r.seq, r.kind, r.author, r.person, r.body) for r in rows]


def _arrow_head(x1: float, y1: float, x2: float, y2: float, width: float) -> list[tuple[float, float]]:
    """The triangle at (x2, y2) of an arrow from (x1, y1)."""
    angle = math.atan2(y2 - y1, x2 - x1)
    size = max(width * ARROW_HEAD, 10.0)
    left = (x2 - size * math.cos(angle - math.pi / 7), y2 - size * math.sin(angle - math.pi / 7))
    right = (x2 - size * math.cos(angle + math.pi / 7), y2 - size * math.sin(angle + math.pi / 7))
    return [(x2, y2), left, right]


def _box(op: Op) -> tuple[float, float, float, float]:
    d = op.drawing
    assert d is not None
    return min(d.x1, d.x2), min(d.y1, d.y2), max(d.x1, d.x2), max(d.y1, d.y2)


def svg(ops: list[Op]) -> str:
    """The board as an SVG document (WIDTH × HEIGHT user units)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{BACKGROUND}"/>',
    ]
    for seq, op in visible(ops).items():
        d = op.drawing
        assert d is not None
        paint = f'stroke="{d.color}" stroke-width="{d.width:g}" fill="none" stroke-linecap="round"'
        if op.kind is OpKind.STROKE:
            points = " ".join(f"{x:g},{y:g}" for x, y in d.points)
            if len(d.points) == 1:
                x, y = d.points[0]
                out.append(f'<circle data-seq="{seq}" cx="{x:g}" cy="{y:g}" r="{d.width / 2:g}" fill="{d.color}"/>')
            else:
                out.append(f'<polyline data-seq="{seq}" points="{points}" {paint} stroke-linejoin="round"/>')
        elif op.kind is OpKind.SHAPE:
            if d.shape is ShapeKind.RECT:
                x0, y0, x1, y1 = _box(op)
                box = f'x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}"'
                out.append(f'<rect data-seq="{seq}" {box} {paint}/>')
            elif d.shape is ShapeKind.ELLIPSE:
                x0, y0, x1, y1 = _box(op)
                centre = f'cx="{(x0 + x1) / 2:g}" cy="{(y0 + y1) / 2:g}" rx="{(x1 - x0) / 2:g}" ry="{(y1 - y0) / 2:g}"'
                out.append(f'<ellipse data-seq="{seq}" {centre} {paint}/>')
            else:
                line = f'x1="{d.x1:g}" y1="{d.y1:g}" x2="{d.x2:g}" y2="{d.y2:g}"'
                out.append(f'<line data-seq="{seq}" {line} {paint}/>')
                if d.shape is ShapeKind.ARROW:
                    head = " ".join(f"{x:g},{y:g}" for x, y in _arrow_head(d.x1, d.y1, d.x2, d.y2, d.width))
                    out.append(f'<polygon data-seq="{seq}" points="{head}" fill="{d.color}"/>')
        elif op.kind is OpKind.TEXT:
            lines = d.text.split("\n")
            spans = "".join(
                f'<tspan x="{d.x1:g}" dy="{d.size if i else 0:g}">{escape(line)}</tspan>'
                for i, line in enumerate(lines)
            )
            font = f'font-family="sans-serif" font-size="{d.size:g}" fill={quoteattr(d.color)}'
            out.append(f'<text data-seq="{seq}" x="{d.x1:g}" y="{d.y1:g}" {font}>{spans}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def png(ops: list[Op], scale: float = 1.0) -> bytes:
    """The board as a PNG image (WIDTH × HEIGHT pixels times `scale`)."""
    image = Image.new("RGB", (round(WIDTH * scale), round(HEIGHT * scale)), BACKGROUND)
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return x * scale, y * scale

    for op in visible(ops).values():
        d = op.drawing
        assert d is not None
        width = max(1, round(d.width * scale))
        if op.kind is OpKind.STROKE:
            points = [at(x, y) for x, y in d.points]
            if len(points) > 1:
                draw.line(points, fill=d.color, width=width, joint="curve")
            r = width / 2  # round caps (and a single point's dot)
            for x, y in (points[0], points[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=d.color)
        elif op.kind is OpKind.SHAPE:
            x0, y0, x1, y1 = _box(op)
            box = (*at(x0, y0), *at(x1, y1))
            if d.shape is ShapeKind.RECT:
                draw.rectangle(box, outline=d.color, width=width)
            elif d.shape is ShapeKind.ELLIPSE:
                draw.ellipse(box, outline=d.color, width=width)
            else:
                draw.line([at(d.x1, d.y1), at(d.x2, d.y2)], fill=d.color, width=width)
                if d.shape is ShapeKind.ARROW:
                    head = _arrow_head(d.x1, d.y1, d.x2, d.y2, d.width)
                    draw.polygon([at(x, y) for x, y in head], fill=d.color)
        elif op.kind is OpKind.TEXT:
            font = ImageFont.load_default(size=max(1.0, d.size * scale))
            draw.multiline_text(at(d.x1, d.y1 - d.size * 0.8), d.text, fill=d.color, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
