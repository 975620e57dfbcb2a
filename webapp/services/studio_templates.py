"""The studio's prompt templates: the starter set (seeded when the table is empty), example prompts, and
the admin's create, edit, delete and reorder (/admin/templates).
"""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import PromptTemplate
from webapp.services import audit, generation
from webapp.services.studio_errors import StudioError

# Starter prompt templates, seeded when the table is empty (admins edit them at /admin/templates).
# Written as art direction for a backdrop: type is ours, so each leaves calm space where it will go.
STARTER_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "poster",
        "Concert under stage lights",
        "A live band silhouetted on a smoky stage, beams of coloured light cutting through haze, the crowd's "
        "raised hands in the foreground, calm dark space in the lower third for the show details",
    ),
    (
        "poster",
        "Theatre, dramatic and elegant",
        "An empty theatre stage with a single spotlight on a velvet curtain, deep shadows, rich reds and "
        "golds, cinematic composition with quiet space at the bottom",
    ),
    (
        "poster",
        "Comedy night, bold and playful",
        "A vintage microphone on a stand in front of a brick wall, warm spotlight, playful confetti, bold "
        "flat colours, uncluttered top and bottom",
    ),
    (
        "square",
        "Festival crowd at golden hour",
        "An open-air festival crowd at golden hour seen from behind, sun flare over the stage, warm "
        "summer colours, centred subject, simple sky above",
    ),
    (
        "square",
        "Jazz club mood",
        "A saxophone resting on a chair in a dim jazz club, bokeh lights, deep blues and amber, intimate and "
        "moody, plenty of negative space",
    ),
    (
        "banner",
        "Wide stage panorama",
        "A wide panorama of a concert stage from the back of the hall, light beams and haze, the stage on "
        "the right third, dark calm area on the left for text",
    ),
    (
        "banner",
        "Abstract sound waves",
        "Abstract flowing sound waves and light trails on a dark background, vivid gradient colours "
        "concentrated on the right, smooth empty space on the left",
    ),
)

EXAMPLES: dict[str, tuple[str, ...]] = {
    "poster": (
        "A string quartet in an old library at night, candlelight, painterly",
        "Neon-lit city rooftop party, dancers in silhouette, purple and teal",
    ),
    "square": (
        "A single red rose on a grand piano, soft studio light",
        "Colourful paper lanterns over a night market crowd",
    ),
    "banner": (
        "A moody coastline at dusk with a lighthouse beam sweeping the sky",
        "A DJ booth glowing under laser lights, wide shot",
    ),
}


# --------------------------------------------------------------------------- prompt templates


def ensure_templates() -> None:
    """Seed the starter templates when there are none at all (fresh install, emptied table). Lazy and
    idempotent, so no data migration is needed and tests that empty the tables get them back."""
    if db.session.scalar(select(func.count()).select_from(PromptTemplate)):
        return
    for position, (image_type, name, text) in enumerate(STARTER_TEMPLATES):
        db.session.add(PromptTemplate(image_type=image_type, name=name, text=text, position=position))
    db.session.commit()


def templates_by_type() -> dict[str, list[PromptTemplate]]:
    ensure_templates()
    rows = db.session.scalars(select(PromptTemplate).order_by(PromptTemplate.position, PromptTemplate.id))
    out: dict[str, list[PromptTemplate]] = {t: [] for t in generation.IMAGE_TYPES}
    for row in rows:
        out.setdefault(row.image_type, []).append(row)
    return out


def save_template(row: PromptTemplate | None, image_type: str, name: str, text: str) -> PromptTemplate:
    """Create or update; new ones go last in their image type."""
    if image_type not in generation.IMAGE_TYPES:
        raise StudioError("Choose poster, square or banner.")
    if row is None:
        last = db.session.scalar(select(func.max(PromptTemplate.position)))
        row = PromptTemplate(position=(last or 0) + 1)
        db.session.add(row)
    created = row.id is None
    row.image_type, row.name, row.text = image_type, name.strip()[:80], generation.clean_prompt(text, 4000)
    db.session.flush()
    action = "prompt_template.create" if created else "prompt_template.update"
    audit.record(action, f"prompt_template:{row.id}", {"name": row.name, "image_type": row.image_type})
    db.session.commit()
    return row


def delete_template(row: PromptTemplate) -> None:
    audit.record(
        "prompt_template.delete",
        f"prompt_template:{row.id}",
        {"name": row.name, "image_type": row.image_type},
    )
    db.session.delete(row)
    db.session.commit()


def move_template(row: PromptTemplate, step: int) -> None:
    """Swap with the neighbour above (-1) or below (+1) within the same image type."""
    siblings = templates_by_type().get(row.image_type, [])
    index = next(i for i, t in enumerate(siblings) if t.id == row.id)
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(siblings):
        for i, tpl in enumerate(siblings):  # renumber so equal positions cannot make a swap a no-op
            tpl.position = i
        siblings[index].position, siblings[other].position = other, index
        db.session.commit()
