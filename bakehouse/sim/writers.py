"""Byte-exact renderers for the source systems' export formats.

The landing files must look like the real exports (see
``shared/specs/source-extracts.md`` and the samples): CRLF CSVs in GBK for the tills
and store costs, UTF-8 with BOM for Douyin and the ERP, plain UTF-8 for Ele.me, JSON
lines with Python-style ``", "``/``": "`` separators, and an XLSX whose first row is a
title. Frames arrive with every column already formatted as text, so each renderer is
a single vectorised pass and the output is byte-for-byte deterministic.
"""

from __future__ import annotations

import io
import zipfile

import polars as pl

BOM = "\ufeff"
_ZIP_TIMESTAMP = (2026, 1, 1, 0, 0, 0)


def yuan(fen: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    """Fen integers as yuan text with two decimals (``-50`` → ``"-0.50"``)."""
    if isinstance(fen, pl.Series):
        return pl.DataFrame({"fen": fen}).select(yuan(pl.col("fen"))).to_series()
    magnitude = fen.abs()
    text = pl.concat_str(
        [
            (magnitude // 100).cast(pl.String),
            pl.lit("."),
            (magnitude % 100).cast(pl.String).str.zfill(2),
        ]
    )
    return pl.when(fen < 0).then(pl.lit("-") + text).otherwise(text)


def json_number_yuan(fen: pl.Expr) -> pl.Expr:
    """Fen as the shortest JSON/XLSX number in yuan (``850`` → ``8.5``, ``1500`` → ``15``)."""
    return (
        pl.when(fen % 100 == 0)
        .then((fen // 100).cast(pl.String))
        .otherwise((fen.cast(pl.Float64) / 100).cast(pl.String))
    )


def json_float_yuan(fen: pl.Expr) -> pl.Expr:
    """Fen as a Python float repr in yuan (``1500`` → ``15.0``), as Ele.me prints prices."""
    return (fen.cast(pl.Float64) / 100).cast(pl.String)


def json_str(value: pl.Expr) -> pl.Expr:
    """A JSON string literal, or ``null`` where the value is null."""
    escaped = value.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        '"', '\\"', literal=True
    )
    return (
        pl.when(value.is_null()).then(pl.lit("null")).otherwise(pl.lit('"') + escaped + pl.lit('"'))
    )


def json_object(fields: dict[str, pl.Expr]) -> pl.Expr:
    """``{"key": value, ...}`` from already-encoded JSON values, keys in the given order."""
    parts: list[pl.Expr] = []
    for position, (key, value) in enumerate(fields.items()):
        parts.append(pl.lit(("{" if position == 0 else ", ") + f'"{key}": '))
        parts.append(value)
    parts.append(pl.lit("}"))
    return pl.concat_str(parts)


def csv_text(frame: pl.DataFrame) -> str:
    """CRLF CSV text with a header, quoting only where a field needs it."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, line_terminator="\r\n", null_value="")
    return buffer.getvalue().decode("utf-8")


def encode_text(text: str, encoding: str) -> bytes:
    """Encode a whole file's text once: ``gbk``, ``utf-8`` or ``utf-8-sig`` (BOM)."""
    if encoding == "utf-8-sig":
        return (BOM + text).encode("utf-8")
    return text.encode(encoding)


def jsonl_text(lines: pl.Series) -> str:
    """One JSON object per line, LF-terminated (empty text for no lines)."""
    if lines.len() == 0:
        return ""
    return "\n".join(lines.to_list()) + "\n"


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_escape(value: pl.Expr) -> pl.Expr:
    return (
        value.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


_OOXML = "http://schemas.openxmlformats.org"
_PACKAGE_RELS = f"{_OOXML}/package/2006/relationships"
_DOC_RELS = f"{_OOXML}/officeDocument/2006/relationships"
_MAIN = f"{_OOXML}/spreadsheetml/2006/main"
_MIME = "application/vnd.openxmlformats"
_SHEET_MIME = f"{_MIME}-officedocument.spreadsheetml"


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="{part}" ContentType="{content_type}" />'


def _relationship(kind: str, target: str, rel_id: str) -> str:
    return f'<Relationship Type="{kind}" Target="{target}" Id="{rel_id}" />'


_CONTENT_TYPES = (
    f'<Types xmlns="{_OOXML}/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_MIME}-package.relationships+xml" />'
    '<Default Extension="xml" ContentType="application/xml" />'
    + _override("/xl/styles.xml", f"{_SHEET_MIME}.styles+xml")
    + _override("/docProps/core.xml", f"{_MIME}-package.core-properties+xml")
    + _override("/docProps/app.xml", f"{_MIME}-officedocument.extended-properties+xml")
    + _override("/xl/worksheets/sheet1.xml", f"{_SHEET_MIME}.worksheet+xml")
    + _override("/xl/workbook.xml", f"{_SHEET_MIME}.sheet.main+xml")
    + "</Types>"
)
_ROOT_RELS = (
    f'<Relationships xmlns="{_PACKAGE_RELS}">'
    + _relationship(f"{_DOC_RELS}/officeDocument", "xl/workbook.xml", "rId1")
    + _relationship(f"{_PACKAGE_RELS}/metadata/core-properties", "docProps/core.xml", "rId2")
    + _relationship(f"{_DOC_RELS}/extended-properties", "docProps/app.xml", "rId3")
    + "</Relationships>"
)
_WORKBOOK_RELS = (
    f'<Relationships xmlns="{_PACKAGE_RELS}">'
    + _relationship(f"{_DOC_RELS}/worksheet", "/xl/worksheets/sheet1.xml", "rId1")
    + _relationship(f"{_DOC_RELS}/styles", "styles.xml", "rId2")
    + "</Relationships>"
)
# The export job stamps a fixed creation date, which keeps the bytes reproducible.
_CORE = (
    f'<cp:coreProperties xmlns:cp="{_OOXML}/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>openpyxl</dc:creator>'
    '<dcterms:created xsi:type="dcterms:W3CDTF">2026-01-01T00:00:00Z</dcterms:created>'
    "</cp:coreProperties>"
)
_APP = (
    f'<Properties xmlns="{_OOXML}/officeDocument/2006/extended-properties">'
    "<Application>Microsoft Excel Compatible / Openpyxl 3.1.5</Application>"
    "<AppVersion>3.1</AppVersion></Properties>"
)
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}"><numFmts count="0" />'
    '<fonts count="1"><font><name val="Calibri" /><family val="2" /><sz val="11" /></font></fonts>'
    '<fills count="2"><fill><patternFill /></fill>'
    '<fill><patternFill patternType="gray125" /></fill></fills>'
    '<borders count="1"><border><left /><right /><top /><bottom /><diagonal /></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" /></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" /></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" /></cellStyles>'
    "</styleSheet>"
)


def xlsx_bytes(frame: pl.DataFrame, title: str, numeric: set[str], sheet_name: str) -> bytes:
    """A one-sheet workbook: ``title`` in A1, the header on row 2, data from row 3.

    ``numeric`` columns hold number text and become numeric cells; the rest are inline
    strings, as openpyxl writes them. Zip entries carry a fixed timestamp.
    """
    columns = frame.columns
    header_cells = "".join(
        f'<c r="{_column_letter(i)}2" t="inlineStr"><is><t>{name}</t></is></c>'
        for i, name in enumerate(columns)
    )
    last_row = frame.height + 2
    row_number = (pl.int_range(pl.len()) + 3).cast(pl.String)
    cell_parts: list[pl.Expr] = [pl.lit('<row r="'), row_number, pl.lit('">')]
    for i, name in enumerate(columns):
        reference = [pl.lit(f'<c r="{_column_letter(i)}'), row_number]
        if name in numeric:
            cell_parts += [*reference, pl.lit('" t="n"><v>'), pl.col(name), pl.lit("</v></c>")]
        else:
            cell_parts += [
                *reference,
                pl.lit('" t="inlineStr"><is><t>'),
                _xml_escape(pl.col(name).fill_null("")),
                pl.lit("</t></is></c>"),
            ]
    cell_parts.append(pl.lit("</row>"))
    data_rows = (
        "".join(frame.select(pl.concat_str(cell_parts)).to_series().to_list())
        if frame.height
        else ""
    )
    sheet = (
        f'<worksheet xmlns="{_MAIN}">'
        f'<dimension ref="A1:{_column_letter(len(columns) - 1)}{last_row}" />'
        '<sheetViews><sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1" />'
        "</sheetView></sheetViews>"
        '<sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><sheetData>'
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>{title}</t></is></c></row>'
        f'<row r="2">{header_cells}</row>{data_rows}</sheetData>'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" />'
        "</worksheet>"
    )
    workbook = (
        f'<workbook xmlns:r="{_DOC_RELS}" xmlns="{_MAIN}"><workbookPr />'
        '<bookViews><workbookView activeTab="0" /></bookViews>'
        f'<sheets><sheet name="{sheet_name}" sheetId="1" state="visible" r:id="rId1" /></sheets>'
        '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>'
    )
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _ROOT_RELS,
        "docProps/app.xml": _APP,
        "docProps/core.xml": _CORE,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
        "xl/styles.xml": _STYLES,
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()
