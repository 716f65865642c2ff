"""Dictionary forms (lemmas) from simplemma, without rebuilding its lookup index in every process.

Why: the gloss reads a word through its dictionary form (gloss.py). simplemma's default backend decodes a
language's whole dictionary into a Python dict on first use (Spanish: 824k forms, ~1 s), which a CLI run
pays for each prompt; its memory-frugal backend reads the same front-coded stream and only keeps a sparse
index of restart points (one per 32 forms), but builds that index with a pass over the whole stream
(~0.5 s). Here that index is kept on disk (common/disk_cache.py, keyed by simplemma's version and the
dictionary's bytes), so a new process decompresses the stream (~30 ms) and reads the index. The lemmas are
simplemma's own (the same data, the same strategies; tests/test_gloss_lemmas.py compares them).
Anything unexpected in simplemma's internals falls back to `simplemma.lemmatize`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sora_lite.common import disk_cache


def _indexed_stream(lang: str) -> Mapping[str, str]:
    """simplemma's StreamMap for `lang`, its index read from the cache (built and stored when missing)."""
    import simplemma
    from simplemma.strategies.dictionaries import frontcode
    from simplemma.strategies.dictionaries.dictionary_factory import _read_decompressed
    from simplemma.strategies.dictionaries.stream_dictionary_factory import (
        _BLOCK_SIZE,
        StreamMap,
    )

    data = _read_decompressed(lang)
    key = disk_cache.digest(["simplemma index", simplemma.__version__, lang, data])
    index = disk_cache.load(f"simplemma-{lang}", key)
    header = frontcode._read_header(data)
    if _index_fits(index, header[1], _BLOCK_SIZE):
        stream = StreamMap.__new__(StreamMap)
        stream._data = data
        stream._rev, stream._count, stream._pos = header
        stream._firsts, stream._blocks = index
        return stream
    stream = StreamMap(lang)
    disk_cache.store(f"simplemma-{lang}", key, (stream._firsts, stream._blocks))
    return stream


def _index_fits(index: Any, count: int, block: int) -> bool:
    """Whether a cached value is a StreamMap index for a stream of `count` forms (a restart point per block)."""
    if not (isinstance(index, tuple) and len(index) == 2 and isinstance(index[0], list)
            and isinstance(index[1], list)):
        return False
    firsts, blocks = index
    return (len(firsts) == len(blocks) == -(-count // block) and all(isinstance(f, bytes) for f in firsts)
            and all(isinstance(b, tuple) and len(b) == 3 and isinstance(b[0], int) for b in blocks))


@functools.cache
def _lemmatizer() -> Any:
    """A simplemma Lemmatizer equal to `simplemma.lemmatize`'s (DefaultStrategy, not greedy) but for its
    dictionaries; simplemma's own legacy function when its internals are not the ones this was written for."""
    import simplemma

    try:
        from simplemma.strategies import DefaultStrategy
        from simplemma.strategies.dictionaries.dictionary_factory import (
            CachingDictionaryFactory,
        )
        from simplemma.strategies.dictionaries.stream_dictionary_factory import (
            StreamMap,
        )

        if not {"_data", "_rev", "_count", "_pos", "_firsts", "_blocks"} <= set(StreamMap.__slots__):
            raise AttributeError("simplemma's StreamMap changed")

        class _IndexedStreams(CachingDictionaryFactory):
            __slots__ = ()

            def _get_dictionary_uncached(self, lang: str) -> Mapping[str, str]:
                return _indexed_stream(lang)

        return simplemma.Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_IndexedStreams()))
    except (ImportError, AttributeError, TypeError):
        return None


def lemmatize(word: str, language: str) -> str:
    """`simplemma.lemmatize(word, lang=language)` (raises ImportError without simplemma, ValueError for a
    language it does not have, as simplemma does)."""
    lemmatizer = _lemmatizer()
    if lemmatizer is None:
        import simplemma

        return str(simplemma.lemmatize(word, lang=language))
    return str(lemmatizer.lemmatize(word, language))
