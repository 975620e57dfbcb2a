"""The library's stacks: an original and everything made from it, shown as one tile (issue 19).

A *stack* is an original (an upload, an AI image) and every asset whose ``group_id`` points at it:
auto-formats, overlay renders, studio edits, clips. The gallery pages through stacks, not assets,
so "48 per page" means 48 tiles.

Filters match *members*: a stack is listed when any of its current members matches. Its tile shows
the original when the original matches, otherwise the newest matching member (so "Banner" shows
banners and a search for a banner's file name shows that banner), and the expanded stack marks the
members that match. Superseded overlay renders (older versions) never match: they are listed only
inside their stack, under "Older versions".

Three SQL statements per page whatever the library's size: the page of stacks (grouped and sorted
in the database, keyset-paged where the sort allows), their members, and which members match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Asset, Show, User
from webapp.services.library import (
    PAGE_SIZE,
    GalleryItem,
    LibraryFilter,
    _color_distance_subquery,
    _encode_cursor,
    apply_filters,
    decode_cursor,
    status_clause,
    usage_count_expr,
)


@dataclass
class Stack:
    """One tile: the cover (what the tile shows), the original, and the rest of the stack."""

    root_id: int
    cover: GalleryItem
    members: list[GalleryItem] = field(default_factory=list)  # current members except the cover
    older: list[GalleryItem] = field(default_factory=list)  # superseded overlay renders
    matching: set[int] = field(default_factory=set)
    filtered: bool = False

    def label_of(self, asset: Asset) -> str:
        return member_label(asset, self.root_id)

    @property
    def size(self) -> int:
        return 1 + len(self.members) + len(self.older)

    @property
    def shown(self) -> list[GalleryItem]:
        """The members the expanded stack lists: all of them, or under a filter only those that match
        (the tile says how many of the stack match and links to the whole stack)."""
        if not self.filtered:
            return self.members
        return [m for m in self.members if m.asset.id in self.matching]

    @property
    def shown_older(self) -> list[GalleryItem]:
        return [] if self.filtered else self.older

    @property
    def summary(self) -> str:
        """ "+4 formats, 2 renders" — what is folded under the tile."""
        counts: dict[str, int] = {}
        for item in self.shown:
            label = member_label(item.asset, self.root_id)
            counts[label] = counts.get(label, 0) + 1
        parts = [f"{n} {word if n == 1 else PLURAL.get(word, word + 's')}" for word, n in counts.items()]
        if self.shown_older:
            n = len(self.shown_older)
            parts.append(f"{n} older version{'s' if n != 1 else ''}")
        return "+" + ", ".join(parts) if parts else ""


PLURAL = {"original": "originals"}


def member_label(asset: Asset, root_id: int) -> str:
    """What a member of a stack is, in the words of its badge."""
    if asset.id == root_id:
        return "original"
    if asset.is_overlay_render:
        return "render"
    if asset.source == "autoformat":
        return "format"
    if asset.media_kind in ("video", "audio"):
        return "clip"
    if asset.kind == "edited" or asset.source == "ai":
        return "edit"
    return "image"


@dataclass
class StackPage:
    stacks: list[Stack]
    next_cursor: str | None
    filters: LibraryFilter

    @property
    def items(self) -> list[Stack]:  # the templates' "is there anything" test
        return self.stacks


def _is_filtered(flt: LibraryFilter) -> bool:
    wanted = (flt.kind, flt.source, flt.media, flt.status, flt.show_id, flt.q, flt.color, flt.favorites)
    return any(wanted)


def _members_query(user: User, flt: LibraryFilter) -> Select:
    """Every current member that matches the filters, with its stack, size, usage and distance."""
    show = aliased(Show)
    gkey = func.coalesce(Asset.group_id, Asset.id)
    query = (
        select(
            Asset.id.label("id"),
            gkey.label("g"),
            Asset.bytes.label("bytes"),
            usage_count_expr(),
        )
        .outerjoin(show, show.id == Asset.show_id)
        .where(Asset.owner_id == user.id, *status_clause(flt.status), Asset.superseded.is_(False))
    )
    query = apply_filters(query, flt, show)
    if flt.color:
        distance = _color_distance_subquery(flt.color)
        query = query.join(distance, distance.c.asset_id == Asset.id)
        query = query.add_columns(distance.c.dist.label("dist"))
    return query


def stacks(user: User, flt: LibraryFilter, page_size: int = PAGE_SIZE) -> StackPage:
    """One page of the producer's stacks (see the module's docstring for what matches)."""
    m = _members_query(user, flt).subquery()
    columns = [
        m.c.g,
        func.max(m.c.id).label("newest"),
        func.min(m.c.id).label("oldest"),
        func.max(m.c.bytes).label("largest"),
        func.sum(m.c.usage).label("used"),
        func.max(case((m.c.id == m.c.g, 1), else_=0)).label("root_match"),
    ]
    if flt.color:
        columns.append(func.min(m.c.dist).label("dist"))
    grouped = select(*columns).group_by(m.c.g).subquery()
    query = select(grouped)
    cursor = decode_cursor(flt.cursor)
    if flt.color:
        query = query.order_by(grouped.c.dist.asc(), grouped.c.g.desc())
        query = query.offset(max(0, int(cursor.get("o", 0))))
    elif flt.sort == "used":
        query = query.order_by(grouped.c.used.desc(), grouped.c.g.desc())
        query = query.offset(max(0, int(cursor.get("o", 0))))
    elif flt.sort == "oldest":
        if "id" in cursor:
            query = query.where(grouped.c.oldest > int(cursor["id"]))
        query = query.order_by(grouped.c.oldest.asc())
    elif flt.sort == "largest":
        if "b" in cursor and "id" in cursor:
            query = query.where(
                tuple_(grouped.c.largest, grouped.c.g)
                < tuple_(literal(int(cursor["b"])), literal(int(cursor["id"])))
            )
        query = query.order_by(grouped.c.largest.desc(), grouped.c.g.desc())
    else:
        if "id" in cursor:
            query = query.where(grouped.c.newest < int(cursor["id"]))
        query = query.order_by(grouped.c.newest.desc())
    rows = db.session.execute(query.limit(page_size + 1)).all()
    more = len(rows) > page_size
    rows = rows[:page_size]
    if not rows:
        return StackPage([], None, flt)

    keys = [row.g for row in rows]
    usage = usage_count_expr()
    show = aliased(Show)
    loaded = db.session.execute(
        select(Asset, usage, show.title)
        .outerjoin(show, show.id == Asset.show_id)
        .where(
            Asset.owner_id == user.id,
            *status_clause(flt.status if flt.status == "rejected" else ""),
            or_(Asset.id.in_(keys), Asset.group_id.in_(keys)),
        )
        .order_by(Asset.id)
    ).all()
    matching: dict[int, set[int]] = {g: set() for g in keys}
    for mid, g in db.session.execute(select(m.c.id, m.c.g).where(m.c.g.in_(keys))).all():
        matching[g].add(mid)

    by_group: dict[int, list[GalleryItem]] = {g: [] for g in keys}
    for asset, used, show_title in loaded:
        by_group[asset.group_id or asset.id].append(GalleryItem(asset, int(used or 0), show_title))
    filtered = _is_filtered(flt)
    page: list[Stack] = []
    for row in rows:
        items = by_group[row.g]
        cover_id = row.g if row.root_match else row.newest
        cover = next((i for i in items if i.asset.id == cover_id), None)
        if cover is None:  # deleted between the two statements
            continue
        if flt.color:
            cover.color_distance = float(row.dist)
        stack = Stack(root_id=row.g, cover=cover, matching=matching[row.g], filtered=filtered)
        for item in items:
            if item is cover:
                continue
            (stack.older if item.asset.superseded else stack.members).append(item)
        stack.older.sort(key=lambda i: i.asset.id, reverse=True)
        page.append(stack)

    next_cursor = None
    if more:
        last = rows[-1]
        if flt.color or flt.sort == "used":
            next_cursor = _encode_cursor({"o": int(cursor.get("o", 0)) + page_size})
        elif flt.sort == "largest":
            next_cursor = _encode_cursor({"b": int(last.largest), "id": last.g})
        elif flt.sort == "oldest":
            next_cursor = _encode_cursor({"id": last.oldest})
        else:
            next_cursor = _encode_cursor({"id": last.newest})
    return StackPage(page, next_cursor, flt)


def group_sizes(root_ids: list[int]) -> dict[int, int]:
    """How many assets each stack holds (its original included), for the API (one statement)."""
    if not root_ids:
        return {}
    gkey = func.coalesce(Asset.group_id, Asset.id)
    rows = db.session.execute(select(gkey, func.count()).where(gkey.in_(set(root_ids))).group_by(gkey)).all()
    return {int(g): int(n) for g, n in rows}


def regroup_before_delete(ids: list[int]) -> None:
    """Before assets are deleted: members of a stack whose original goes re-form around their nearest
    surviving ancestor (the poster a render was made from becomes the new original), and the newest
    older version of a deleted current overlay render becomes current again. Flushed, not committed:
    the caller's delete commits it with the rest."""
    gone = set(ids)
    orphans = list(db.session.scalars(select(Asset).where(Asset.group_id.in_(gone), Asset.id.not_in(gone))))
    if orphans:
        parents = dict(
            db.session.execute(
                select(Asset.id, Asset.parent_id).where(
                    Asset.owner_id.in_({a.owner_id for a in orphans}),
                    or_(Asset.group_id.in_(gone), Asset.id.in_(gone)),
                )
            ).all()
        )
        for asset in orphans:
            root, seen = None, set()
            node = asset.parent_id
            while node is not None and node not in seen:
                seen.add(node)
                if node not in gone:
                    root = node
                node = parents.get(node)
            asset.group_id = root
    for deleted in db.session.scalars(
        select(Asset).where(Asset.id.in_(gone), Asset.superseded.is_(False), Asset.parent_id.is_not(None))
    ):
        if not deleted.is_overlay_render:
            continue
        from webapp.services.versions import promote_previous

        promote_previous(deleted, exclude=gone)
    db.session.flush()
