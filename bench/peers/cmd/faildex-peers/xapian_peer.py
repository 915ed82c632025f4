#!/usr/bin/python3
"""The Xapian 1.4 side of faildex-peers' xapian engine (xapian.go).

Run with Debian's /usr/bin/python3, where python3-xapian lives:
    xapian_peer.py DB_DIR
It reads requests from stdin, one JSON object a line, and answers each with
one JSON line on stdout:

  {"op": "build", "n": N}, then N report lines (id, title, published, year,
  lead, texts, options): builds a Glass database in DB_DIR anew and answers
  {"docs": N, "seconds": S}.
  {"op": "run", ...}: one search request (see run); the answer is the JSON
  a server would send: total, the 20 hits, the facet counts.

Index: the title with weight 3 and every other prose field, English stemmer
(STEM_SOME), positions (phrases), spelling data (for the misspelled class);
one boolean term per category option ("XDOMAIN:information"); values: slot
0 the publication date (sorting), slot 1 the year, slots 2-17 each
category's options joined by a unit separator, counted with one
ValueCountMatchSpy per category (exact: check_at_least is every document).
"""
import json
import sys
import time

import xapian

CATS = ("recurring phase boundary nature dimension objective intent capability duration "
        "behaviour domain consequence cps perception communication application").split()
SLOT_DATE, SLOT_YEAR = 0, 1
SLOT = {c: 2 + i for i, c in enumerate(CATS)}
PREFIX = {c: "X" + c.upper() + ":" for c in CATS}
SEP = "\x1f"


def build(path, lines):
    db = xapian.WritableDatabase(path, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    tg.set_database(db)
    tg.set_flags(xapian.TermGenerator.FLAG_SPELLING)
    n = 0
    for line in lines:
        d = json.loads(line)
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(d["title"], 3)
        for s in d["texts"]:
            tg.increase_termpos(100)  # no phrase across fields
            tg.index_text(s)
        opts = d["options"]
        for c in CATS:
            o = opts.get(c)
            if o:
                for v in o:
                    doc.add_boolean_term(PREFIX[c] + v)
                doc.add_value(SLOT[c], SEP.join(o))
        doc.add_value(SLOT_DATE, d["published"])
        doc.add_value(SLOT_YEAR, str(d["year"]))
        doc.add_boolean_term("Q" + d["id"])
        doc.set_data(json.dumps({"id": d["id"], "title": d["title"], "published": d["published"],
                                 "summary": d["lead"], "options": opts}))
        db.add_document(doc)
        n += 1
    db.commit()
    db.close()
    return n


class Searcher:
    def __init__(self, path):
        self.db = xapian.Database(path)
        self.n = self.db.get_doccount()
        self.qp = xapian.QueryParser()
        self.qp.set_stemmer(xapian.Stem("english"))
        self.qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
        self.qp.set_default_op(xapian.Query.OP_AND)
        self.qp.set_database(self.db)

    def words(self, r):
        """The query of the request's words (None without words), and the
        words actually searched (a misspelled word corrected)."""
        text, mode = r["text"], r["mode"]
        flags = xapian.QueryParser.FLAG_DEFAULT | xapian.QueryParser.FLAG_PHRASE
        if not text:
            return None
        if r["phrase"]:
            return self.qp.parse_query('"%s"' % text, flags)
        if mode == "partial":  # the word being typed: every word it starts
            return self.qp.parse_query(text, flags | xapian.QueryParser.FLAG_PARTIAL)
        if mode == "or":  # a word and its synonyms
            return xapian.Query(xapian.Query.OP_OR, [self.qp.parse_query(w, flags) for w in text.split()])
        if mode == "spell":  # corrected from the spelling data, then searched
            q = self.qp.parse_query(text, flags | xapian.QueryParser.FLAG_SPELLING_CORRECTION)
            fixed = self.qp.get_corrected_query_string().decode()
            if fixed:
                q = self.qp.parse_query(fixed, flags)
            return q
        return self.qp.parse_query(text, flags)

    def query(self, words, filters, skip=None):
        parts = [xapian.Query(xapian.Query.OP_OR, [xapian.Query(PREFIX[c] + v) for v in vals])
                 for c, vals in filters.items() if c != skip]
        filt = xapian.Query(xapian.Query.OP_AND, parts) if parts else None
        if words is not None:
            return xapian.Query(xapian.Query.OP_FILTER, words, filt) if filt else words
        return filt if filt else xapian.Query.MatchAll

    def enquire(self, words, q):
        e = xapian.Enquire(self.db)
        e.set_query(q)
        if words is not None:
            e.set_sort_by_relevance_then_value(SLOT_DATE, True)
        else:
            e.set_weighting_scheme(xapian.BoolWeight())
            e.set_sort_by_value(SLOT_DATE, True)
        return e

    def run(self, r):
        filters = r["filters"] or {}
        words = self.words(r)
        e = self.enquire(words, self.query(words, filters))
        spies = {}
        for c in CATS:
            if c not in filters:
                spies[c] = xapian.ValueCountMatchSpy(SLOT[c])
                e.add_matchspy(spies[c])
        years = xapian.ValueCountMatchSpy(SLOT_YEAR)
        e.add_matchspy(years)
        mset = e.get_mset(r["offset"], r["size"], self.n)
        for c in filters:  # disjunctive: the category's own filter left out
            e2 = self.enquire(words, self.query(words, filters, skip=c))
            spies[c] = xapian.ValueCountMatchSpy(SLOT[c])
            e2.add_matchspy(spies[c])
            e2.get_mset(0, 0, self.n)
        total = mset.get_matches_estimated()
        if not total == mset.get_matches_lower_bound() == mset.get_matches_upper_bound():
            raise RuntimeError("inexact total")
        counts = {}
        for c in CATS:
            for item in spies[c].values():
                for o in item.term.decode().split(SEP):
                    k = c + "=" + o
                    counts[k] = counts.get(k, 0) + item.termfreq
        for item in years.values():
            counts["year=" + item.term.decode()] = item.termfreq
        hits = []
        for m in mset:
            h = json.loads(m.document.get_data())
            h["score"] = m.weight
            hits.append(h)
        return {"total": total, "hits": hits, "counts": counts}


def main():
    path = sys.argv[1]
    inp, out = sys.stdin, sys.stdout
    searcher = None
    for line in inp:
        r = json.loads(line)
        if r["op"] == "build":
            t = time.perf_counter()
            n = build(path, (inp.readline() for _ in range(r["n"])))
            ans = {"docs": n, "seconds": time.perf_counter() - t}
            searcher = None
        elif r["op"] == "open":
            searcher = Searcher(path)
            ans = {"docs": searcher.n, "version": xapian.version_string()}
        elif r["op"] == "run":
            ans = searcher.run(r)
        else:
            raise ValueError("unknown op %r" % r["op"])
        out.write(json.dumps(ans))
        out.write("\n")
        out.flush()


if __name__ == "__main__":
    main()
