"""Which texts contain a string verbatim, answered without reading every text: a sorted index of
character bigrams over all texts joined into one array.

Every position of the joined texts is filed under the bigram that starts there. A string's occurrences
are among the positions of its rarest bigram; comparing the following characters there keeps the real
ones. So a lookup costs about the number of times that bigram occurs, not the length of the corpus: a
million clauses answer in milliseconds, where `term in text` over every text takes seconds.

    SubstringIndex(["现代家具产业", "产业集群", "产业链"]).containing("产业") -> [0, 1, 2]
    ... .containing("家具") -> [0];  .containing("产业", most=1) -> None (more than one text has it)

The rare-term score built on it is `chatbot.index.rare_term_scores`; tokenization is `chatbot.tokens`.
"""

from __future__ import annotations

import numpy as np

SEP = "\0"      # joins the texts: no match can span two texts, as no searched string contains it
CHECK = 4096    # occurrences looked at before all of them, to stop early on common strings


class SubstringIndex:
    """Built once from a list of texts (in memory: about 6 bytes per character); `containing` answers
    exactly what `[i for i, x in enumerate(texts) if s in x]` would."""

    def __init__(self, texts: list[str]):
        self.n = len(texts)
        joined = SEP.join(texts) + SEP  # the trailing SEP gives the last character a bigram too
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=self.n)
        self.starts = np.cumsum(lengths + 1) - (lengths + 1)  # where each text begins in the joined array
        # characters renumbered 0..A-1 in code point order, so that a bigram fits in 32 bits
        self.known = np.zeros(int(points.max()) + 1, dtype=bool)
        self.known[points] = True
        self.table = np.cumsum(self.known, dtype=np.int64) - 1
        self.alphabet = int(self.table[-1]) + 1
        small = np.uint16 if self.alphabet <= 1 << 16 else np.uint32
        self.chars = self.table[points].astype(small)
        del points
        self._wide = self.alphabet ** 2 > 1 << 32
        keys = self._keys(self.chars[:-1], self.chars[1:])
        if self._wide:  # an alphabet of more than 65,536 characters: a slower two-key sort
            order = np.lexsort((np.arange(len(keys)), keys))
            keys, self.positions = keys[order], order.astype(np.int64)
        else:
            # (bigram, position) in one 64-bit number: one sort groups the bigrams, positions ascending
            packed = np.sort((keys.astype(np.uint64) << np.uint64(32)) | np.arange(len(keys), dtype=np.uint64))
            keys = (packed >> np.uint64(32)).astype(np.uint32)
            self.positions = (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
            del packed
        first = np.flatnonzero(np.diff(keys)) + 1 if len(keys) else np.zeros(0, dtype=np.int64)
        self.keys = keys[np.concatenate(([0], first))] if len(keys) else keys
        self.bounds = np.concatenate(([0], first, [len(keys)])).astype(np.int64)

    def __len__(self) -> int:
        return self.n

    def _keys(self, a, b):
        dtype = np.uint64 if self._wide else np.uint32
        return a.astype(dtype) * dtype(self.alphabet) + b.astype(dtype)

    def _occurrences(self, s: str) -> np.ndarray:
        """Start positions of `s` in the joined texts, ascending."""
        cp = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)
        if (cp >= len(self.known)).any() or not self.known[cp].all():  # a character no text has
            return np.zeros(0, dtype=np.int64)
        ids = self.table[cp]
        if len(cp) == 1:  # the positions of every bigram that starts with the character
            first = int(ids[0]) * self.alphabet
            lo = np.searchsorted(self.keys, first)
            hi = np.searchsorted(self.keys, first + self.alphabet - 1, side="right")
            return np.sort(self.positions[self.bounds[lo]:self.bounds[hi]].astype(np.int64))
        keys = self._keys(ids[:-1], ids[1:])
        slots = np.searchsorted(self.keys, keys)
        found = (slots < len(self.keys)) & (self.keys[np.minimum(slots, len(self.keys) - 1)] == keys)
        if not found.all():
            return np.zeros(0, dtype=np.int64)
        counts = self.bounds[slots + 1] - self.bounds[slots]
        j = int(np.argmin(counts))  # the rarest bigram of s, at offset j
        at = self.positions[self.bounds[slots[j]]:self.bounds[slots[j] + 1]].astype(np.int64) - j
        at = at[(at >= 0) & (at + len(cp) <= len(self.chars))]
        for m in range(len(cp)):
            if m not in (j, j + 1):  # the bigram itself matches by construction
                at = at[self.chars[at + m] == ids[m]]
        return at

    def containing(self, s: str, most: int | None = None) -> np.ndarray | None:
        """The texts that contain `s`, ascending; None when more than `most` of them do.

        The empty string is in every text; a string with the separator (NUL) in none.
        """
        if SEP in s:
            return np.zeros(0, dtype=np.int64)
        if not s:
            docs = np.arange(self.n, dtype=np.int64)
        else:
            at = self._occurrences(s)
            if most is not None and len(at) > CHECK:
                head = np.unique(np.searchsorted(self.starts, at[:CHECK], side="right") - 1)
                if len(head) > most:
                    return None
            docs = np.unique(np.searchsorted(self.starts, at, side="right") - 1)
        return None if most is not None and len(docs) > most else docs
