"""Where a display text breaks into lines: minimum raggedness over word breaks, with measured widths.

Why not greedy filling: greedy fills the first line and leaves the rest to the last one ("MIDNIGHT JAZZ
AT / THE BLUE ROOM", or a lone last word). Posters want lines of nearly equal width, so for a given number
of lines we choose the breaks that minimise the sum of squared slack (the classic minimum-raggedness
dynamic programme), counting the last line too, with penalties that encode the typographer's rules:

* a one-word last line (a "widow") costs more than any amount of raggedness, so it only happens when no
  other break fits;
* a text made of parts joined by separators (" · ", " | ", an en dash, e.g. performers) breaks at the
  separators by preference, and a separator is never set at the start or end of a line: the line break
  replaces it;
* a line that ends on a short word ("AT", "THE", "&") costs a little, so the word moves down with the
  phrase it belongs to.

PURE: widths come from a ``measure`` callable (the caller's font), so this works for any face and is
property-tested with synthetic widths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Tokens that separate parts of a text and must never start or end a line.
SEPARATORS = frozenset({"·", "|", "–", "—", "-", "•", "/", "+"})
_SHORT = 3  # a word of at most this many letters at a line end costs a little ("AT", "THE", "&")


@dataclass(frozen=True)
class Units:
    """A text as breakable units. ``joiners[i]`` joins unit i and i+1 on one line (" " or " · ");
    ``soft[i]`` is True where the text had a separator there (the preferred place to break)."""

    words: tuple[str, ...]
    joiners: tuple[str, ...]
    soft: tuple[bool, ...]

    def line(self, start: int, end: int) -> str:
        """Units start..end-1 on one line, with their joiners (a break drops the joiner)."""
        out = self.words[start]
        for k in range(start, end - 1):
            out += self.joiners[k] + self.words[k + 1]
        return out


def units(text: str) -> Units:
    """Split on spaces; separator tokens become joiners between their neighbours (leading and trailing
    separators, and runs of them, are dropped: they separate nothing)."""
    words: list[str] = []
    joiners: list[str] = []
    soft: list[bool] = []
    pending: str | None = None
    for token in text.split():
        if token in SEPARATORS:
            if words:
                pending = token
            continue
        if words:
            joiners.append(f" {pending} " if pending else " ")
            soft.append(pending is not None)
        words.append(token)
        pending = None
    return Units(tuple(words), tuple(joiners), tuple(soft))


def lines_of(u: Units, breaks: Sequence[int]) -> tuple[str, ...]:
    """The lines for break indexes (each the end of a line, the last being len(words))."""
    out, start = [], 0
    for end in breaks:
        out.append(u.line(start, end))
        start = end
    return tuple(out)


def best_breaks(
    u: Units, measure: Callable[[str], float], max_width: float, count: int, soft_only: bool = False
) -> tuple[float, list[int]] | None:
    """The least costly way to set ``u`` in exactly ``count`` lines no wider than ``max_width``:
    (cost, break indexes), or None when no such breaking exists. Widths are additive (word widths plus
    joiner widths), the caller re-measures the chosen lines to catch kerning across joins."""
    n = len(u.words)
    if count < 1 or count > n:
        return None
    word_w = [measure(w) for w in u.words]
    join_w = {j: measure(j) for j in set(u.joiners)}
    prefix = [0.0]
    for k in range(n):
        prefix.append(prefix[-1] + word_w[k] + (join_w[u.joiners[k]] if k < n - 1 else 0.0))

    def span(i: int, j: int) -> float:  # units i..j-1, joiners between them, none after the last
        return prefix[j] - prefix[i] - (join_w[u.joiners[j - 1]] if j < n else 0.0)

    # Cheap refusals first (most sizes tried while fitting fail here): a word wider than a line, or more
    # text than ``count`` full lines can hold even with every break dropping the widest joiner.
    widest_join = max(join_w.values(), default=0.0)
    if max(word_w) > max_width or span(0, n) - (count - 1) * widest_join > count * max_width:
        return None

    any_soft = any(u.soft)
    hard_penalty = 1.5 * max_width**2  # breaking inside a part when the text has separators
    short_penalty = (0.25 * max_width) ** 2
    widow_penalty = 4.0 * count * max_width**2  # more than any raggedness

    def line_cost(i: int, j: int) -> float:
        width = span(i, j)
        if width > max_width:
            return float("inf")
        cost = (max_width - width) ** 2
        if j < n:  # a break after unit j-1
            if any_soft and not u.soft[j - 1]:
                if soft_only:
                    return float("inf")
                cost += hard_penalty
            if len(u.words[j - 1].strip(".,!?:;")) <= _SHORT and j - i > 1:
                cost += short_penalty
        elif count > 1 and j - i == 1 and n > count:
            cost += widow_penalty
        return cost

    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    cut = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(k, n - (count - k) + 1):
            for i in range(k - 1, j):
                if best[k - 1][i] == inf:
                    continue
                cost = best[k - 1][i] + line_cost(i, j)
                if cost < best[k][j]:
                    best[k][j], cut[k][j] = cost, i
    if best[count][n] == inf:
        return None
    breaks, j = [], n
    for k in range(count, 0, -1):
        breaks.append(j)
        j = cut[k][j]
    return best[count][n], sorted(breaks)


def balance(
    text: str,
    measure: Callable[[str], float],
    max_width: float,
    max_lines: int,
    verify: Callable[[str], float] | None = None,
    soft_only: bool = False,
) -> tuple[str, ...] | None:
    """The fewest lines (up to ``max_lines``) that fit ``max_width``, broken with minimum raggedness;
    None when the text cannot fit in ``max_lines`` (the caller shrinks the type or reports it).
    ``measure`` may be a fast estimate; ``verify`` (default: ``measure``) checks the chosen lines.
    ``soft_only`` allows breaks only at separators (when the text has any): the fitter tries that at
    every size first, so "The Harbour Strings" stays whole while a smaller size can keep it so."""
    verify = verify or measure
    u = units(text)
    if not u.words:
        return ()
    for count in range(1, min(max_lines, len(u.words)) + 1):
        found = best_breaks(u, measure, max_width, count, soft_only and any(u.soft))
        if found is None:
            continue
        lines = lines_of(u, found[1])
        if all(verify(line) <= max_width for line in lines):  # kerning across joins, hinting
            return lines
    return None


def has_separators(text: str) -> bool:
    """Whether the text has parts joined by separators (performers, "Jazz | Soul")."""
    return any(units(text).soft)


def wrap_words(text: str, measure: Callable[[str], float], max_width: float) -> list[str]:
    """Greedy wrap at word boundaries (the last resort at the smallest size); separators still never
    start or end a line. A single word wider than ``max_width`` stays whole on its own line."""
    u = units(text)
    out: list[str] = []
    start = 0
    for k in range(1, len(u.words) + 1):
        if k > start + 1 and measure(u.line(start, k)) > max_width:
            out.append(u.line(start, k - 1))
            start = k - 1
    if u.words:
        out.append(u.line(start, len(u.words)))
    return out


def cut_at_word(line: str, measure: Callable[[str], float], max_width: float, ellipsis: str = "…") -> str:
    """``line`` shortened at a word boundary with an ellipsis until it fits; a single word too wide for
    the line is cut inside (nothing else can fit it), never a word that could have been kept whole."""
    if measure(line) <= max_width:
        return line
    u = units(line)
    for end in range(len(u.words) - 1, 0, -1):
        candidate = u.line(0, end) + ellipsis
        if measure(candidate) <= max_width:
            return candidate
    word = u.words[0] if u.words else line
    while word and measure(word + ellipsis) > max_width:
        word = word[:-1]
    return word + ellipsis
