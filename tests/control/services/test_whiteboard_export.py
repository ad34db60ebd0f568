"""The whiteboard's SVG and PNG (control.services.whiteboard_export) and its wire codec: every kind
drawn, text escaped, nothing undone or erased shown, and stored bodies read back as written."""

import io
import xml.etree.ElementTree as ElementTree

import pytest
from PIL import Image

from control.domain.whiteboard import Drawing, Op, OpKind, ShapeKind
from control.meetings.whiteboard_wire import body, decode, encode
from control.services.whiteboard_export import png, svg

SVG = "{http://www.w3.org/2000/svg}"


def board() -> list[Op]:
    return [
        Op(1, OpKind.STROKE, "p1", "u:a", Drawing("#ff0000", 8.0, points=((100.0, 100.0), (300.0, 100.0)))),
        Op(2, OpKind.STROKE, "p1", "u:a", Drawing("#00ff00", 10.0, points=((50.0, 800.0),))),
        Op(3, OpKind.SHAPE, "p2", "u:b", Drawing("#0000ff", 4.0, shape=ShapeKind.RECT, x1=900, y1=400, x2=700, y2=200)),
        Op(
            4,
            OpKind.SHAPE,
            "p2",
            "u:b",
            Drawing("#0000ff", 4.0, shape=ShapeKind.ELLIPSE, x1=1000, y1=100, x2=1200, y2=300),
        ),
        Op(
            5, OpKind.SHAPE, "p2", "u:b", Drawing("#000000", 4.0, shape=ShapeKind.ARROW, x1=100, y1=500, x2=500, y2=500)
        ),
        Op(6, OpKind.SHAPE, "p2", "u:b", Drawing("#000000", 4.0, shape=ShapeKind.LINE, x1=100, y1=600, x2=500, y2=650)),
        Op(7, OpKind.TEXT, "p1", "u:a", Drawing("#333333", x1=600, y1=700, text='<script>"&\nline 2', size=40)),
        Op(8, OpKind.STROKE, "p1", "u:a", Drawing("#ff00ff", 8.0, points=((1400.0, 800.0), (1500.0, 850.0)))),
        Op(9, OpKind.ERASE, "p2", "u:b", targets=(8,)),
        Op(10, OpKind.STROKE, "p1", "u:a", Drawing("#ffff00", 8.0, points=((1400.0, 100.0), (1500.0, 150.0)))),
        Op(11, OpKind.UNDO, "p1", "u:a", undoes=10),
    ]


def test_svg_draws_every_kind_escapes_text_and_leaves_out_what_is_gone():
    document = svg(board())
    root = ElementTree.fromstring(document)  # well-formed XML, text escaped
    seqs = {element.get("data-seq") for element in root.iter() if element.get("data-seq")}
    assert seqs == {"1", "2", "3", "4", "5", "6", "7"}
    assert root.find(f"{SVG}polyline").get("points") == "100,100 300,100"
    rect = root.find(f"{SVG}rect[@data-seq='3']")
    assert (rect.get("x"), rect.get("y"), rect.get("width"), rect.get("height")) == ("700", "200", "200", "200")
    assert root.find(f"{SVG}polygon[@data-seq='5']") is not None  # the arrow's head
    text = root.find(f"{SVG}text")
    assert [span.text for span in text] == ['<script>"&', "line 2"]
    assert "<script>" not in document


def test_png_draws_at_scale():
    image = Image.open(io.BytesIO(png(board(), scale=0.5))).convert("RGB")
    assert image.size == (800, 450)
    assert image.getpixel((100, 50)) == (255, 0, 0)  # the red stroke at (200, 100)
    assert image.getpixel((25, 400)) == (0, 255, 0)  # the one-point stroke's dot
    assert image.getpixel((350, 100)) == (0, 0, 255)  # the rectangle's left edge at x = 700
    assert image.getpixel((725, 412)) == (255, 255, 255)  # the erased stroke is gone
    assert image.getpixel((725, 62)) == (255, 255, 255)  # the undone one too


@pytest.mark.parametrize("op", board(), ids=lambda op: f"{op.seq}-{op.kind}")
def test_stored_bodies_read_back_as_written(op):
    assert decode(op.seq, str(op.kind), op.author, op.person, body(op)) == op
    assert encode(op)["seq"] == op.seq and encode(op)["kind"] == str(op.kind)
