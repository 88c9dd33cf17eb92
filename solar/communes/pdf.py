"""A commune's report as a PDF, in French, drawn with reportlab and no external tile.

Pages, in order:

1. **Cover**: the commune, the scope, the dates.
2. **Totals**: the roofs' potential and the recommended systems' power, production,
   investment and CO2 avoided; the buildings by status and by system; how the economics
   were computed and the sources of the tariffs.
3. **Map** of the commune's buildings in the report, drawn from their footprints in the
   cadastre's metric CRS and coloured by portfolio status, with a legend, a scale bar and
   north up. The footprints only: no background tile is fetched, so the report is made
   offline and shows nothing that the cadastre does not hold.
4. **One page per retained building**: its footprint with its roof faces coloured by
   suitability (the map legend of :mod:`solar.suitability`) and numbered, a table of the
   faces, and the building's figures: potential, recommended system, economics.

The standard PDF fonts (Helvetica) cover French (Windows-1252): the text is extractable.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import shapely
from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from solar.cadastre import FaceRecord
from solar.communes.reports import NO_STATUS, STATUS_LABELS, CommuneReport, ReportRow
from solar.suitability import colour as suitability_colour
from solar.suitability import label as suitability_label
from solar.suitability import orientation_words

#: Map colours of the portfolio statuses (ColorBrewer Set1-like, told apart in grey scale
#: by their lightness), and of the buildings outside the portfolio.
STATUS_COLOURS: dict[str, str] = {
    STATUS_LABELS["retenu"]: "#1a9641",
    STATUS_LABELS["a_etudier"]: "#fdae61",
    STATUS_LABELS["ecarte"]: "#d7191c",
    NO_STATUS: "#bdbdbd",
}
_PAGE_WIDTH = A4[0] - 3 * cm
_MAP_HEIGHT = 19 * cm
_ROOF_HEIGHT = 9 * cm

_styles = getSampleStyleSheet()
_TITLE = ParagraphStyle("title", parent=_styles["Title"], fontSize=24, leading=30)
_H1 = _styles["Heading1"]
_H2 = _styles["Heading2"]
_BODY = _styles["BodyText"]
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10)
_NOTE = ParagraphStyle("note", parent=_BODY, fontSize=9, leading=11)
_TABLE_STYLE = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F4E79")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
)


def _number(value: float | None, decimals: int = 0, unit: str = "") -> str:
    """A French number: narrow no-break space for thousands, decimal comma."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    # Helvetica has no narrow no-break space glyph: a plain space reads the same
    text = text.replace("\u202f", " ")
    return f"{text} {unit}".strip()


def _percent(value: float | None) -> str:
    return "–" if value is None else _number(100 * value, 0, "%")


def _rings(geometry: Any) -> list[tuple[Sequence[tuple[float, float]], bool]]:
    """(coordinates, is_hole) of every ring of a polygon or multipolygon."""
    out: list[tuple[Sequence[tuple[float, float]], bool]] = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        out.append((list(polygon.exterior.coords), False))
        out.extend((list(ring.coords), True) for ring in polygon.interiors)
    return out


class _Frame:
    """Maps the cadastre's metric coordinates onto a drawing, north up, same scale in x
    and y."""

    def __init__(
        self, bounds: Sequence[float], width: float, height: float, margin: float, bottom: float
    ):
        xmin, ymin, xmax, ymax = bounds
        span_x, span_y = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
        self.scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        self.x0 = xmin - (width / self.scale - span_x) / 2
        # ``bottom`` points are kept free under the drawing for the scale bar
        self.y0 = ymin - (height / self.scale - span_y) / 2 - bottom / self.scale

    def points(self, coords: Sequence[tuple[float, ...]]) -> list[float]:
        flat: list[float] = []
        for c in coords:
            flat += [(c[0] - self.x0) * self.scale, (c[1] - self.y0) * self.scale]
        return flat


def _draw_geometry(
    drawing: Drawing, frame: _Frame, geometry: Any, fill: str, stroke: float = 0.2
) -> None:
    for coords, hole in _rings(geometry):
        drawing.add(
            Polygon(
                frame.points(coords),
                fillColor=colors.white if hole else colors.HexColor(fill),
                strokeColor=colors.HexColor("#404040"),
                strokeWidth=stroke,
            )
        )


def _scale_bar(drawing: Drawing, frame: _Frame, width: float) -> None:
    target = width / 4 / frame.scale
    length = next((s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if s >= target), 5000)
    pixels = length * frame.scale
    drawing.add(Line(10, 12, 10 + pixels, 12, strokeWidth=1.5))
    label = f"{length} m" if length < 1000 else f"{length // 1000} km"
    drawing.add(String(10, 16, label, fontName="Helvetica", fontSize=8))
    # north is up: an arrow under an "N" in the top right corner
    top = drawing.height - 12
    drawing.add(Line(width - 14, top - 22, width - 14, top - 6, strokeWidth=1.2))
    drawing.add(Polygon([width - 17, top - 9, width - 11, top - 9, width - 14, top - 4]))
    drawing.add(
        String(width - 14, top, "N", fontName="Helvetica-Bold", fontSize=9, textAnchor="middle")
    )


def commune_map(report: CommuneReport, width: float = _PAGE_WIDTH) -> Drawing:
    """The report's buildings, coloured by status, with a legend and a scale bar."""
    drawing = Drawing(width, _MAP_HEIGHT)
    drawing.add(Rect(0, 0, width, _MAP_HEIGHT, fillColor=None, strokeColor=colors.grey))
    geometries = [r.geometry for r in report.rows if r.geometry is not None]
    if not geometries:
        return drawing
    bounds = shapely.total_bounds(geometries)
    frame = _Frame(bounds, width, _MAP_HEIGHT - 2.5 * cm, 0.3 * cm, bottom=1 * cm)
    # the retained last, on top of their neighbours
    order = sorted(report.rows, key=lambda r: r.status == STATUS_LABELS["retenu"])
    for row in order:
        if row.geometry is not None:
            _draw_geometry(drawing, frame, row.geometry, STATUS_COLOURS[row.status])
    counts = report.totals.by_status
    x = 10.0
    for status, fill in STATUS_COLOURS.items():
        if status not in counts:
            continue
        top = _MAP_HEIGHT - 18
        drawing.add(Rect(x, top, 10, 10, fillColor=colors.HexColor(fill), strokeWidth=0.3))
        text = f"{status} ({counts[status]})"
        drawing.add(String(x + 14, top + 2, text, fontName="Helvetica", fontSize=8))
        x += 24 + 4.5 * len(text)
    _scale_bar(drawing, frame, width)
    return drawing


def roof_drawing(
    row: ReportRow, faces: Sequence[FaceRecord], width: float = _PAGE_WIDTH
) -> Drawing:
    """A building's footprint with its roof faces, coloured by suitability and numbered."""
    drawing = Drawing(width, _ROOF_HEIGHT)
    if row.geometry is None:
        return drawing
    frame = _Frame(row.geometry.bounds, width, _ROOF_HEIGHT - 1.8 * cm, 0.3 * cm, bottom=1 * cm)
    _draw_geometry(drawing, frame, row.geometry, "#f0f0f0", stroke=0.8)
    for number, face in enumerate(faces, start=1):
        _draw_geometry(drawing, frame, face.geometry, suitability_colour(face.suitability), 0.4)
        point = face.geometry.representative_point()
        x, y = frame.points([(point.x, point.y)])
        drawing.add(
            String(x, y, str(number), fontName="Helvetica-Bold", fontSize=9, textAnchor="middle")
        )
    _scale_bar(drawing, frame, width)
    return drawing


def _cover(report: CommuneReport) -> list[Any]:
    return [
        Spacer(1, 5 * cm),
        Paragraph("Cadastre solaire de l'Artois", _H2),
        Paragraph(f"{report.commune_name}", _TITLE),
        Paragraph(f"Code INSEE {report.commune_insee}", _H2),
        Spacer(1, 1 * cm),
        Paragraph("Potentiel photovoltaïque des bâtiments communaux", _H1),
        Paragraph(
            f"Périmètre : {report.scope_label} ({len(report.rows)} bâtiments). "
            f"Tarifs à la date du {report.tariff_date:%d/%m/%Y}. "
            f"Rapport produit le {report.generated_at:%d/%m/%Y à %H:%M} (UTC).",
            _BODY,
        ),
        Spacer(1, 0.5 * cm),
        Paragraph(
            "Contenu : les totaux, la carte des bâtiments par statut, puis une page par "
            "bâtiment retenu avec sa toiture et ses chiffres.",
            _BODY,
        ),
        PageBreak(),
    ]


def _totals(report: CommuneReport) -> list[Any]:
    t = report.totals
    figures = [
        ["Indicateur", "Valeur"],
        ["Bâtiments", _number(t.buildings)],
        ["dont retenus", _number(t.retained)],
        ["Puissance des toitures", _number(t.roof_kwc, 1, "kWc")],
        ["Production des toitures", _number(t.roof_production_kwh_yr / 1000, 1, "MWh/an")],
        ["Puissance recommandée", _number(t.system_kwc, 1, "kWc")],
        ["Production recommandée", _number(t.system_production_kwh_yr / 1000, 1, "MWh/an")],
        ["Investissement", _number(t.investment_eur, 0, "€")],
        ["CO2 évité", _number(t.co2_avoided_kg_yr / 1000, 1, "t/an")],
    ]
    status = [["Statut", "Bâtiments"], *([k, str(v)] for k, v in sorted(t.by_status.items()))]
    system = [["Système recommandé", "Bâtiments"]]
    system += [[k, str(v)] for k, v in sorted(t.by_system.items())]
    return [
        Paragraph(f"Totaux – {report.commune_name}", _H1),
        Table(figures, colWidths=[9 * cm, 6 * cm], style=_TABLE_STYLE),
        Spacer(1, 0.5 * cm),
        Table(status, colWidths=[9 * cm, 6 * cm], style=_TABLE_STYLE),
        Spacer(1, 0.5 * cm),
        Table(system, colWidths=[9 * cm, 6 * cm], style=_TABLE_STYLE),
        Spacer(1, 0.5 * cm),
        *(Paragraph(n, _BODY) for n in report.notes),
        Paragraph("Sources des tarifs :", _BODY),
        *(Paragraph(source, _SMALL) for source in report.sources),
        PageBreak(),
        Paragraph(f"Carte des bâtiments – {report.commune_name}", _H1),
        commune_map(report),
        PageBreak(),
    ]


def _building_page(row: ReportRow, faces: Sequence[FaceRecord]) -> list[Any]:
    face_rows = [
        ["N°", "Orientation", "Inclinaison", "Surface utile", "kWc", "kWh/an", "Potentiel"]
    ]
    for number, face in enumerate(faces, start=1):
        face_rows.append(
            [
                str(number),
                orientation_words(face.azimuth_deg, face.is_flat),
                _number(face.tilt_deg, 0, "°"),
                _number(face.usable_area_m2, 0, "m²"),
                _number(face.kwc, 1),
                _number(face.production_kwh_yr, 0),
                suitability_label(face.suitability) or "",
            ]
        )
    figures = [
        ["Indicateur", "Valeur"],
        ["Usage", row.usage or "–"],
        ["Puissance de la toiture", _number(row.kwc, 1, "kWc")],
        ["Modules", _number(row.modules)],
        ["Production", _number(row.production_kwh_yr, 0, "kWh/an")],
        ["Productible", _number(row.specific_yield_kwh_kwc, 0, "kWh/kWc/an")],
        ["Potentiel", row.suitability or "–"],
        ["Pertes par ombrage", _number(row.shading_loss_pct, 1, "%")],
        ["Système recommandé", row.system],
        ["Puissance recommandée", _number(row.system_kwc, 1, "kWc")],
        ["Production du système", _number(row.system_production_kwh_yr, 0, "kWh/an")],
        ["Taux d'autoconsommation", _percent(row.self_consumption_rate)],
        ["Économies (an 1)", _number(row.annual_savings_eur, 0, "€/an")],
        ["Vente d'électricité (an 1)", _number(row.annual_sales_eur, 0, "€/an")],
        ["Valeur actuelle nette (20 ans)", _number(row.npv_eur, 0, "€")],
        ["Temps de retour", _number(row.payback_years, 1, "ans")],
        ["Investissement", _number(row.investment_eur, 0, "€")],
        ["CO2 évité", _number(row.co2_avoided_kg_yr, 0, "kg/an")],
    ]
    if row.load_source:
        figures.append(["Consommation", row.load_source])
    return [
        Paragraph(f"Bâtiment {row.building_id}", _H1),
        Paragraph(row.address or "Adresse inconnue", _H2),
        roof_drawing(row, faces),
        Spacer(1, 0.3 * cm),
        KeepTogether(Table(face_rows, style=_TABLE_STYLE, repeatRows=1)),
        Spacer(1, 0.3 * cm),
        Table(figures, colWidths=[8 * cm, 7 * cm], style=_TABLE_STYLE),
        Spacer(1, 0.2 * cm),
        Paragraph(row.note, _NOTE),
        PageBreak(),
    ]


def write_pdf(report: CommuneReport) -> bytes:
    """The report as a PDF (see the module docstring for its pages)."""
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=f"Cadastre solaire – {report.commune_name} ({report.commune_insee})",
        author="Cadastre solaire de l'Artois",
        lang="fr-FR",
    )
    story = [*_cover(report), *_totals(report)]
    for row in report.rows:
        if row.status_code == "retenu":
            story += _building_page(row, report.faces.get(row.building_id, ()))
    if isinstance(story[-1], PageBreak):
        story.pop()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(1.5 * cm, 0.8 * cm, f"{report.commune_name} – cadastre solaire")
        canvas.drawRightString(A4[0] - 1.5 * cm, 0.8 * cm, f"page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
