import csv
import io
from datetime import UTC, datetime

from control.services.audit import CSV_COLUMNS, csv_row
from control.store.models import AuditEvent


def test_csv_row_quotes_json_and_defuses_formulas():
    event = AuditEvent(
        id=7,
        at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        actor_user_id=None,
        actor_api_key_id=None,
        action="room.updated",
        target_type="room",
        target_id="-1+1",
        before={"name": "a,b"},
        after={"name": "=cmd"},
    )
    row = next(csv.reader(io.StringIO(csv_row(event))))
    assert len(row) == len(CSV_COLUMNS)
    assert row[:3] == ["7", "2030-01-02T03:04:05+00:00", ""]
    assert row[6] == "'-1+1"
    assert row[7] == '{"name": "a,b"}' and row[8] == '{"name": "=cmd"}'
