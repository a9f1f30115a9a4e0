"""The lexical signal: tokens, a light stemmer and BM25 term weights stored as Qdrant sparse vectors.

Document values carry BM25's saturated term frequency; the IDF half is applied at query time (Qdrant's
``Modifier.IDF`` on a server, ``LexicalIndex`` in process), so adding a document never rewrites others.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
K1 = 1.2
B = 0.75
# A fixed average length keeps stored weights stable as the corpus grows (as fastembed's BM25 does).
AVG_LEN = 40.0
STOPWORDS = frozenset(
    """a an the and or of to in on for with by from at as is are was were be been it its this that these
    those which what where who whom how when do does did i we you me my our your there their they them
    can could should would will shall may might must have has had please find show tell give get any all
    some about into over under than then so not no yes if up out""".split()
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "s", "ly")


def stem(word: str) -> str:
    """Strip one common English suffix, keeping at least three letters ("refunds" -> "refund")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix == "ies" or suffix == "ied":
                return base + "y"
            return base
    return word


# Catalog vocabularies repeat heavily (10k assets use a few thousand words): each word is stemmed and
# hashed once per process instead of once per occurrence.
@lru_cache(maxsize=1 << 16)
def _token(word: str) -> str | None:
    low = word.lower()
    return stem(low) if (low not in STOPWORDS and len(word) > 1) or word.isdigit() else None


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text``; snake_case, dotted and camelCase names split into words."""
    found = map(_token, _WORD.findall(_CAMEL.sub(" ", text)))
    return [t for t in found if t is not None]


@lru_cache(maxsize=1 << 16)
def term_id(token: str) -> int:
    """A stable 31-bit id for a token (the sparse vector's dimension)."""
    return zlib.crc32(token.encode("utf-8")) & 0x7FFFFFFF


def document_vector(text: str) -> dict[int, float]:
    """BM25 saturated term frequencies of a document, keyed by term id."""
    counts = Counter(tokens(text))
    length = sum(counts.values()) or 1
    norm = K1 * (1 - B + B * length / AVG_LEN)
    scale = K1 + 1
    return {term_id(t): c * scale / (c + norm) for t, c in counts.items()}


def query_terms(text: str) -> list[int]:
    """Distinct term ids of a query (each counts once, as in BM25 over short queries)."""
    return sorted({term_id(t) for t in tokens(text)})
