"""The report's files: xlsx (XlsxWriter), pdf (ReportLab) and csv (standard library).

Columns are the union of the rows' keys, "id" first then by name. Each column gets one type
from its values: a column whose values are all numbers is numeric (an amount, in COP, when
its name is in AMOUNT_COLUMNS), all ISO dates is a date column, all ISO date-times is a
date-time column (shown in the users' time zone, TIMEZONE); anything else is text.

No format ever evaluates a cell: xlsx text cells are written as strings (never formulas),
csv cells that a spreadsheet would read as a formula get a leading apostrophe, and the pdf
only draws text.
"""

import csv
import dataclasses
import json
import os
import re
from datetime import date, datetime

import days  # shared/days.py, packaged beside this module

TITLES = {"requisitions": "Requisiciones", "orders": "Órdenes de compra", "audit": "Auditoría"}
# Columns that hold pesos, wherever the backend's exports put them.
AMOUNT_COLUMNS = frozenset({"amount", "total", "subtotal", "tax", "price", "unit_price", "value"})
# Excel's currency format with the COP code; Colombian pesos are shown with two decimals.
COP_FORMAT = '[$COP] #,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
# PDF: text longer than its column is cut, so that every row stays one line high.
PDF_CHUNK_ROWS = 500


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text", "number", "amount", "date" or "datetime"


class _ColumnProfile:
    """What one column's values have been so far: enough to type it without keeping them."""

    def __init__(self):
        self.present = False
        self.numeric = self.dates = self.datetimes = True
        self.total = 0

    def add(self, value):
        if value is None or value == "":
            return
        self.present = True
        if self.numeric:
            self.numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if self.numeric:
                self.total += value
        if self.dates:
            self.dates = isinstance(value, str) and bool(_ISO_DATE.fullmatch(value)) and _date(value) is not None
        if self.datetimes:
            self.datetimes = isinstance(value, str) and bool(_ISO_DATETIME.fullmatch(value)) and _datetime(value) is not None

    def kind(self, name):
        if not self.present:
            return "text"
        if self.numeric:
            return "amount" if name in AMOUNT_COLUMNS else "number"
        if self.dates:
            return "date"
        return "datetime" if self.datetimes else "text"


class Profile:
    """Columns, their types, amount totals and the row count, built one row at a time, so that
    a report's rows can stream from disk to the writer without being held in memory."""

    def __init__(self, rows=()):
        self.count = 0
        self._columns = {}
        for row in rows:
            self.add(row)

    def add(self, row):
        self.count += 1
        for name, value in row.items():
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = _ColumnProfile()
            column.add(value)

    def columns(self):
        names = sorted(self._columns, key=lambda name: (name != "id", name))
        return [Column(name, self._columns[name].kind(name)) for name in names]

    def totals(self, columns):
        """Sum of each amount column, or {} when the report has no amounts."""
        return {c.name: self._columns[c.name].total for c in columns if c.kind == "amount"}


@dataclasses.dataclass
class Report:
    """rows is iterable more than once (a list, or the spool of the reports function); profile
    is computed from them when not given."""

    report: str
    start: date
    end: date
    rows: object
    generated: datetime
    profile: Profile = None

    def __post_init__(self):
        if self.profile is None:
            self.profile = Profile(self.rows)

    @property
    def title(self):
        return TITLES[self.report]

    @property
    def count(self):
        return self.profile.count

    def columns(self):
        return self.profile.columns()

    def totals(self, columns):
        return self.profile.totals(columns)


def render(report, fmt, path):
    """Write the report's file at path."""
    {"xlsx": to_xlsx, "pdf": to_pdf, "csv": to_csv}[fmt](report, path)


def _date(text):
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _datetime(text):
    """Naive local time in the users' zone: spreadsheets have no time zones."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(days.zone()).replace(tzinfo=None) if value.tzinfo else value


def _text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _typed(column, value):
    """The cell's value in the column's type, or None for an empty cell."""
    if value is None or value == "":
        return None
    if column.kind == "date":
        return _date(value)
    if column.kind == "datetime":
        return _datetime(value)
    return value if column.kind in ("number", "amount") else _text(value)


def _cop(amount):
    """1234567.5 -> "$ 1.234.567,50", as pesos are written in Colombia."""
    text = f"{abs(amount):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return ("-$ " if amount < 0 else "$ ") + text


def _shown(column, value):
    """A cell as text, for the pdf."""
    typed = _typed(column, value)
    if typed is None:
        return ""
    if column.kind == "amount":
        return _cop(typed)
    if column.kind == "datetime":
        return f"{typed:%Y-%m-%d %H:%M}"
    return str(typed)


def to_xlsx(report, path):
    import xlsxwriter

    # constant_memory: each row goes to disk once the next one starts, so memory stays flat
    # whatever the row count (rows must come in order, which they do). Strings stay strings:
    # never turned into formulas or links, whatever they start with.
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path) or ".",
                                          "strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    sheet = workbook.add_worksheet(report.title[:31])  # Excel's limit on sheet names
    bold = workbook.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1})
    formats = {
        "amount": workbook.add_format({"num_format": COP_FORMAT}),
        "date": workbook.add_format({"num_format": DATE_FORMAT}),
        "datetime": workbook.add_format({"num_format": DATETIME_FORMAT}),
    }
    total_format = workbook.add_format({"bold": True, "num_format": COP_FORMAT, "top": 1})
    columns = report.columns()
    for c, column in enumerate(columns):
        sheet.write_string(0, c, column.name, bold)
        sheet.set_column(c, c, 18 if column.kind in ("amount", "datetime") else 14)
    for r, row in enumerate(report.rows, start=1):
        for c, column in enumerate(columns):
            value = _typed(column, row.get(column.name))
            if value is None:
                continue
            if column.kind in ("number", "amount"):
                sheet.write_number(r, c, value, formats.get(column.kind))
            elif column.kind in ("date", "datetime"):
                sheet.write_datetime(r, c, value, formats[column.kind])
            else:
                sheet.write_string(r, c, value)
    if columns:
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, report.count, len(columns) - 1)
    totals = report.totals(columns)
    if totals:
        # Below the filtered range, so that filtering never hides it. Values, not formulas.
        last = report.count + 1
        sheet.write_string(last, 0, "Total", total_format)
        for c, column in enumerate(columns):
            if column.name in totals:
                sheet.write_number(last, c, totals[column.name], total_format)
    workbook.close()


def to_pdf(report, path):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    page = landscape(A4)
    margin = 12 * mm
    subtitle = f"Del {report.start.isoformat()} al {report.end.isoformat()} · {report.count} filas"

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(margin, 7 * mm, f"Canalco · {report.title} · generado {report.generated:%Y-%m-%d %H:%M} (hora de Bogotá)")
        canvas.drawRightString(page[0] - margin, 7 * mm, f"Página {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(path, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=14 * mm, title=f"Canalco - {report.title}", author="Canalco")
    styles = getSampleStyleSheet()
    story = [Paragraph(f"Canalco — {report.title}", styles["Title"]), Paragraph(subtitle, styles["Normal"]), Spacer(1, 4 * mm)]
    columns = report.columns()
    if not columns:
        story.append(Paragraph("Sin datos en este rango.", styles["Normal"]))
    else:
        font, size = "Helvetica", 7
        width = (page[0] - 2 * margin) / len(columns)

        room = width - 4  # the cell's padding
        sure = int(room / size)  # no Helvetica glyph is wider than its size: this many always fit

        def fit(text):
            """One line per cell (a cell as wide as the page would make the table unreadable):
            the longest prefix that fits with "…", found by doubling then bisecting on the
            measured width: O(log n) measurements of prefixes at most twice the fitting one."""
            if len(text) <= sure or stringWidth(text, font, size) <= room:
                return text
            low, high = 0, max(sure, 1)  # invariant: text[:low] + "…" fits, text[:high] + "…" may not
            while high < len(text) and stringWidth(text[:high] + "…", font, size) <= room:
                low, high = high, high * 2
            high = min(high, len(text))  # the whole text does not fit, so neither does it with "…"
            while high - low > 1:
                middle = (low + high) // 2
                if stringWidth(text[:middle] + "…", font, size) <= room:
                    low = middle
                else:
                    high = middle
            return text[:low] + "…"

        header = [fit(c.name) for c in columns]
        body = [[fit(_shown(c, row.get(c.name))) for c in columns] for row in report.rows]
        totals = report.totals(columns)
        if totals:
            last = [_cop(totals[c.name]) if c.name in totals else "" for c in columns]
            last[0] = last[0] or "Total"
            body.append([fit(text) for text in last])
        right = [i for i, c in enumerate(columns) if c.kind in ("amount", "number")]
        # Tables of a few hundred rows split faster than one of ten thousand; each repeats the header.
        for first in range(0, len(body), PDF_CHUNK_ROWS):
            chunk = body[first:first + PDF_CHUNK_ROWS]
            style = [
                ("FONT", (0, 0), (-1, -1), font, size),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", size),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ] + [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in right]
            if totals and first + PDF_CHUNK_ROWS >= len(body):
                style += [("FONT", (0, -1), (-1, -1), "Helvetica-Bold", size), ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black)]
            table = Table([header] + chunk, colWidths=[width] * len(columns), repeatRows=1)
            table.setStyle(TableStyle(style))
            story.append(table)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)


def to_csv(report, path):
    """UTF-8 with a BOM, which makes Excel read the accents right; written row by row."""
    columns = report.columns()
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\ufeff")
        writer = csv.writer(out)
        if columns:
            writer.writerow([c.name for c in columns])
        writer.writerows([_csv_cell(row.get(c.name)) for c in columns] for row in report.rows)


def _csv_cell(value):
    text = _text(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text  # keep spreadsheets from evaluating it as a formula
    return text
