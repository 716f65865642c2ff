"""Search and browse: full-text search over prompts with filters, a creator's page, a cameo's page.

Matching is word-based and the same on every database: the query's words (letters and digits, case and
accents ignored) must all appear in the prompt as whole words; a word ending in `*` matches as a prefix. On
SQLite the FTS5 index (`clip_fts`, kept by triggers, see `sora_lite.store.migrate`) finds candidates; elsewhere
(`SORA_LITE_DB` pointing at another server) a LIKE per word does, and on both the same tokenizer here confirms
each hit, so results are exactly the clips whose prompt holds every word. Listings obey visibility: public
clips, plus the viewer's own.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, select, text

from sora_lite import feed as clip_feed
from sora_lite.accounts import UserInfo
from sora_lite.cameo import registry
from sora_lite.cameo.grants import may_use
from sora_lite.social.visibility import listed_for
from sora_lite.store import ClipRow, Store, User
from sora_lite.store.migrate import FTS_TABLE, has_search_index

MAX_RESULTS = 200
MAX_QUERY_WORDS = 16
MAX_QUERY_CHARS = 500
_WORD = re.compile(r"[^\W_]+\*?", re.UNICODE)  # FTS5's unicode61 splits at '_' too


class SearchError(ValueError):
    """A query or filter that cannot be used; the message says what to change."""


@dataclass
class Filters:
    """Narrow a search: by creator (username), cameo handle used, engine/model id, sound, remix parent."""

    creator: str | None = None
    cameo: str | None = None
    engine: str | None = None
    has_sound: bool | None = None
    remix_of: str | None = None

    @classmethod
    def from_values(cls, creator: Any = None, cameo: Any = None, engine: Any = None, has_sound: Any = None,
                    remix_of: Any = None) -> Filters:
        """From form or API values: blanks mean "any"; has_sound accepts yes/no/any as well as booleans."""

        def blank(v: Any) -> str | None:
            v = None if v is None else str(v).strip()
            return v or None

        sound = has_sound
        if isinstance(sound, str):
            word = sound.strip().lower()
            if word in ("", "any", "either"):
                sound = None
            elif word in ("yes", "true", "with sound", "1"):
                sound = True
            elif word in ("no", "false", "silent", "without sound", "0"):
                sound = False
            else:
                raise SearchError(f"has_sound must be yes, no or any, got {has_sound!r}")
        cameo_value = blank(cameo)
        return cls(creator=blank(creator), cameo=cameo_value.lstrip("@").lower() if cameo_value else None,
                   engine=blank(engine), has_sound=sound if sound is None else bool(sound), remix_of=blank(remix_of))


@dataclass
class SearchResult:
    query: str
    filters: dict[str, Any]
    clips: list[Any]  # ClipRecord
    backend: str  # fts5 | like | none (filters only)
    elapsed_ms: float

    def ids(self) -> list[str]:
        return [c.id for c in self.clips]


def _fold(text_: str) -> str:
    """Lower case without accents: what FTS5's unicode61 (remove_diacritics 2) compares."""
    decomposed = unicodedata.normalize("NFKD", text_.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_terms(query: str) -> list[str]:
    """The words of a query as matched (folded; a trailing '*' kept as the prefix mark)."""
    if not isinstance(query, str):
        raise SearchError("the search query must be text")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"the search query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    terms = _WORD.findall(_fold(query))
    if len(terms) > MAX_QUERY_WORDS:
        raise SearchError(f"the search query has {len(terms)} words; use at most {MAX_QUERY_WORDS}")
    return terms


def prompt_words(prompt: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", _fold(prompt or ""), re.UNICODE))


def matches(prompt: str, terms: list[str]) -> bool:
    """Whether a prompt holds every term (the definition of a hit, on every database)."""
    words = prompt_words(prompt)
    for term in terms:
        if term.endswith("*"):
            stem = term[:-1]
            if not any(w.startswith(stem) for w in words):
                return False
        elif term not in words:
            return False
    return True


def _fts_query(terms: list[str]) -> str:
    # every term quoted (no FTS5 operator or column syntax can come from the user); prefix after the quote
    return " ".join(f'"{t[:-1]}"*' if t.endswith("*") else f'"{t}"' for t in terms)


def _user_id(session: Any, username: str) -> int | None:
    return session.scalar(select(User.id).where(User.username == username))


def search(store: Store, query: str, viewer: UserInfo | None = None, filters: Filters | None = None,
           limit: int = 50) -> SearchResult:
    """Clips whose prompt holds every word of `query` (all clips when it is blank), newest first, narrowed by
    `filters`, among those `viewer` may see in a listing."""
    t0 = time.perf_counter()
    filters = filters or Filters()
    terms = query_terms(query or "")
    limit = max(1, min(int(limit), MAX_RESULTS))
    conditions = [listed_for(viewer)]
    backend = "none"
    fts = bool(terms) and has_search_index(store.engine)  # asked before the session: one connection at a time
    with store.session() as s:
        if filters.creator:
            creator_id = _user_id(s, filters.creator)
            if creator_id is None:
                raise SearchError(f"no creator named {filters.creator!r}")
            conditions.append(ClipRow.user_id == creator_id)
        if filters.cameo:
            conditions.append(ClipRow.cameos.contains(f" {filters.cameo} ", autoescape=True))
        if filters.engine:
            conditions.append(ClipRow.engine == filters.engine)
        if filters.has_sound is not None:
            conditions.append(ClipRow.has_sound.is_(bool(filters.has_sound)))  # unmeasured (None): only under "any"
        if filters.remix_of:
            conditions.append(ClipRow.parent_id == filters.remix_of)
        query_ = select(ClipRow, User.username).outerjoin(User, ClipRow.user_id == User.id).where(and_(*conditions))
        if terms:
            if fts:
                backend = "fts5"
                ids = select(text("clip_id")).select_from(text(FTS_TABLE)).where(text(f"{FTS_TABLE} MATCH :q"))
                query_ = query_.where(ClipRow.id.in_(ids)).params(q=_fts_query(terms))
            else:
                backend = "like"
                for term in terms:
                    query_ = query_.where(ClipRow.prompt.ilike(f"%{term.rstrip('*')}%"))
        query_ = query_.order_by(ClipRow.created_ts.desc(), ClipRow.id.desc())
        rows = s.execute(query_).all()
        hits = [clip_feed._record(row, name) for row, name in rows if not terms or matches(row.prompt, terms)]
    return SearchResult(query=query or "", filters=asdict(filters), clips=hits[:limit], backend=backend,
                        elapsed_ms=(time.perf_counter() - t0) * 1000)


# --- pages ----------------------------------------------------------------------------------------------------


@dataclass
class CreatorPage:
    """A creator's clips (public ones, all of them for the creator) and their cameos others may use."""

    username: str
    display_name: str
    clips: list[Any]
    cameos: list[dict[str, Any]] = field(default_factory=list)


def _cameo_summary(info: registry.CameoInfo) -> dict[str, Any]:
    return {"handle": info.handle, "display_name": info.display_name, "visibility": info.visibility,
            "verified": info.verified}


def creator_page(store: Store, username: str, viewer: UserInfo | None = None, limit: int = 50) -> CreatorPage:
    username = str(username or "").strip()
    if not username:
        raise SearchError("name a creator")
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise LookupError(f"no creator named {username!r}")
        display = user.display_name or user.username
    result = search(store, "", viewer, Filters(creator=username), limit=limit)
    cameos = [c for c in registry.list_cameos(store) if c.owner == username]
    is_self = viewer is not None and viewer.username == username and viewer.can_own
    shown = [_cameo_summary(c) for c in cameos
             if is_self or (c.verified and c.visibility in ("everyone", "approved"))]  # usable by others (on request)
    return CreatorPage(username, display, result.clips, shown)


@dataclass
class CameoPage:
    handle: str
    owner: str
    display_name: str
    visibility: str
    clips: list[Any]


def cameo_page(store: Store, handle: str, viewer: UserInfo | None = None, limit: int = 50) -> CameoPage:
    """Clips that used a cameo, for those the cameo lets see them: its owner, anyone when it is open to
    everyone, approved users when it is "people I approve"; nobody else (only-me cameos show to the owner)."""
    info = registry.get_cameo(store, str(handle or ""))  # CameoNotFound (a LookupError) for a missing one
    owner = viewer is not None and viewer.can_own and viewer.id == info.owner_id
    allowed = owner or info.visibility == "everyone"
    if not allowed and info.visibility == "approved" and viewer is not None:
        with store.session() as s:
            allowed = may_use(s, info.id, viewer)
    if not allowed:
        raise PermissionError(f"the page of @{info.handle} is visible to its owner and the people it allows")
    clips = search(store, "", viewer, Filters(cameo=info.handle), limit=limit).clips
    return CameoPage(info.handle, info.owner, info.display_name, info.visibility, clips)
