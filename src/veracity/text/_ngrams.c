/*
 * veracity.text._ngrams: scikit-learn's HashingVectorizer counts, computed in C.
 *
 * buckets(strings, n_features) returns FeatureHasher's bucket of each string.
 * counts(texts, char_wb, min_n, max_n, n_features, binary) returns the CSR arrays
 * (indptr int64, indices int32, data float64 as bytearrays) of what
 *
 *   HashingVectorizer(analyzer="word" | "char_wb", ngram_range=(min_n, max_n),
 *                     n_features=n_features, lowercase=False, alternate_sign=False,
 *                     norm=None, binary=binary).transform(texts)
 *
 * gives, each row's indices sorted and duplicates summed. The texts must already be
 * lowercased if the vectorizer lowercases (str.lower() is the reference). It mirrors
 * scikit-learn exactly:
 *   - word tokens: maximal runs of at least two "word" code points, as the default
 *     token_pattern (?u)\b\w\w+\b finds them; \w is what the re module uses for str
 *     patterns (Py_UNICODE_ISALNUM or '_'); an n-gram is its tokens joined by ' ';
 *   - char_wb: every whitespace-separated word (str.split()) padded with one space each
 *     side, cut into code-point n-grams with the same loop as
 *     VectorizerMixin._char_wb_ngrams (a word shorter than n counted once);
 *   - each n-gram's UTF-8 bytes are hashed with MurmurHash3_x86_32 (seed 0) and go to
 *     bucket abs(h) % n_features (h = INT32_MIN as FeatureHasher maps it).
 * A text holding a lone surrogate (which UTF-8 cannot encode) raises ValueError; the
 * caller then falls back to scikit-learn. The hashing runs without the GIL.
 *
 * sublinear_dots(texts, char_wb, min_n, max_n, n_features, coef) hashes the same n-grams
 * but builds no counts: per text, over its distinct buckets (an open-addressing table,
 * first-seen order) with w = 1 + log(count), the sums of coef[bucket] * w and of w * w;
 * a linear model's score of sublinear, L2-normed counts is then dot / sqrt(squares).
 * unknown_shares(texts, n_features, seen) gives the share of each text's distinct word
 * buckets whose bit in a packed bit set is 0 (the novelty of hashing-sgd.v2).
 *
 * letter_words(text, codes) counts the words of normalize(text).split() and those in a
 * set of short words given as sorted codes (the English function words of text.lang).
 *
 * present(haystack, needles) is {n for n in needles if n in haystack} in one pass: the
 * trigger strings scrubbing seeks before it runs a pattern's regex.
 *
 * sha1_32(items) returns datasketch's sha1_hash32 of each bytes item, and
 * shingle_sha1_32(text, size) that of each word shingle of a prepared text: the MinHash
 * input of deduplication, without a Python call per item.
 *
 * phrase_windows(text, starts, ends, weights, function, too_long, max_words, piece) is
 * veracity.explain._phrases_python on per-word arrays: the runs of adjacent words that
 * push the same way (joined by the gaps explain._JOIN allows), and in each run the
 * non-overlapping windows of up to max_words words, strongest first; sums are taken in
 * the same order, so the weights are the same doubles.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* -- MurmurHash3_x86_32 (public domain, Austin Appleby), as scikit-learn vendors it -- */

static inline uint32_t rotl32(uint32_t x, int8_t r) { return (x << r) | (x >> (32 - r)); }

static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

static int32_t murmur3_32(const unsigned char *data, Py_ssize_t len) {
    const Py_ssize_t nblocks = len / 4;
    uint32_t h1 = 0; /* seed 0 */
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        uint32_t k1;
        memcpy(&k1, data + 4 * i, 4); /* little-endian hosts, as scikit-learn assumes */
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl32(h1, 13);
        h1 = h1 * 5 + 0xe6546b64;
    }
    const unsigned char *tail = data + nblocks * 4;
    uint32_t k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2:
        k1 ^= (uint32_t)tail[1] << 8; /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (uint32_t)len;
    return (int32_t)fmix32(h1);
}

/* -- growable arrays ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap; /* in items */
} vec;

static int vec_reserve(vec *v, size_t want, size_t item) {
    if (want <= v->cap) return 0;
    size_t cap = v->cap ? v->cap : 64;
    while (cap < want) cap *= 2;
    char *p = realloc(v->p, cap * item);
    if (!p) return -1;
    v->p = p;
    v->cap = cap;
    return 0;
}

#define VEC_AT(v, type) ((type *)(v).p)

/* -- per-call state ----------------------------------------------------------------- */

typedef struct {
    vec bucket;   /* int32 buckets of the current text (with repeats) */
    vec tmp;      /* radix sort scratch */
    vec bytes;    /* UTF-8 of the current tokens / padded word */
    vec offsets;  /* Py_ssize_t: byte offset of each token or code point */
    vec ngram;    /* scratch for joined word n-grams */
    vec indices;  /* output int32 */
    vec data;     /* output float64 */
    vec indptr;   /* output int64 */
    Py_ssize_t n_features;
    uint32_t mask; /* n_features - 1 when n_features is a power of two, else 0 */
    int error;    /* 1: out of memory, 2: lone surrogate */
} state;

static int put_bucket(state *s, const unsigned char *b, Py_ssize_t len) {
    int32_t h = murmur3_32(b, len);
    int32_t idx;
    if (s->mask) /* |h| % 2**k: the low bits of |h| (INT32_MIN's are all 0, as % gives) */
        idx = (int32_t)((h < 0 ? 0u - (uint32_t)h : (uint32_t)h) & s->mask);
    else if (h == INT32_MIN)
        idx = (int32_t)((2147483647 - (s->n_features - 1)) % s->n_features);
    else
        idx = (int32_t)((h < 0 ? -(int64_t)h : (int64_t)h) % s->n_features);
    if (vec_reserve(&s->bucket, s->bucket.n + 1, sizeof(int32_t))) return -1;
    VEC_AT(s->bucket, int32_t)[s->bucket.n++] = idx;
    return 0;
}

/* Append the UTF-8 of code point cp; -1 on a surrogate or no memory. */
static int put_utf8(state *s, Py_UCS4 cp) {
    if (vec_reserve(&s->bytes, s->bytes.n + 4, 1)) {
        s->error = 1;
        return -1;
    }
    unsigned char *o = (unsigned char *)s->bytes.p + s->bytes.n;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        s->bytes.n += 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        s->bytes.n += 2;
    } else if (cp < 0x10000) {
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            s->error = 2;
            return -1;
        }
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        s->bytes.n += 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        s->bytes.n += 4;
    }
    return 0;
}

static int put_offset(state *s, Py_ssize_t off) {
    if (vec_reserve(&s->offsets, s->offsets.n + 1, sizeof(Py_ssize_t))) {
        s->error = 1;
        return -1;
    }
    VEC_AT(s->offsets, Py_ssize_t)[s->offsets.n++] = off;
    return 0;
}

static inline int is_word(Py_UCS4 ch) { return ch == '_' || Py_UNICODE_ISALNUM(ch); }

/* The word n-grams of ntok tokens, token t being base[off[2t] : off[2t + 1]], joined by ' '. */
static int hash_word_ngrams(state *s, const unsigned char *base, const Py_ssize_t *off,
                            Py_ssize_t ntok, long min_n, long max_n) {
    for (long n = min_n; n <= max_n && n <= ntok; n++) {
        for (Py_ssize_t t = 0; t + n <= ntok; t++) {
            if (n == 1) {
                if (put_bucket(s, base + off[2 * t], off[2 * t + 1] - off[2 * t])) goto nomem;
                continue;
            }
            s->ngram.n = 0;
            for (long m = 0; m < n; m++) {
                Py_ssize_t lo = off[2 * (t + m)], hi = off[2 * (t + m) + 1];
                if (vec_reserve(&s->ngram, s->ngram.n + (size_t)(hi - lo) + 1, 1)) goto nomem;
                if (m) s->ngram.p[s->ngram.n++] = ' ';
                memcpy(s->ngram.p + s->ngram.n, base + lo, (size_t)(hi - lo));
                s->ngram.n += (size_t)(hi - lo);
            }
            if (put_bucket(s, (const unsigned char *)s->ngram.p, (Py_ssize_t)s->ngram.n))
                goto nomem;
        }
    }
    return 0;
nomem:
    s->error = 1;
    return -1;
}

/* Word n-grams: tokens as (?u)\b\w\w+\b finds them, in UTF-8, joined by ' '. */
static int word_ngrams(state *s, int kind, const void *data, Py_ssize_t len, long min_n,
                       long max_n) {
    s->bytes.n = 0;
    s->offsets.n = 0; /* (start, end) of each token in s->bytes */
    Py_ssize_t i = 0;
    while (i < len) {
        if (!is_word(PyUnicode_READ(kind, data, i))) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        while (j < len && is_word(PyUnicode_READ(kind, data, j))) j++;
        if (j - i >= 2) {
            if (put_offset(s, (Py_ssize_t)s->bytes.n)) return -1;
            for (Py_ssize_t k = i; k < j; k++)
                if (put_utf8(s, PyUnicode_READ(kind, data, k))) return -1;
            if (put_offset(s, (Py_ssize_t)s->bytes.n)) return -1;
        }
        i = j;
    }
    return hash_word_ngrams(s, (const unsigned char *)s->bytes.p,
                            VEC_AT(s->offsets, Py_ssize_t), (Py_ssize_t)s->offsets.n / 2, min_n,
                            max_n);
}

/* word_ngrams of an ASCII text: the tokens are hashed where they are in the text. */
static int word_ngrams_ascii(state *s, const unsigned char *data, Py_ssize_t len, long min_n,
                             long max_n) {
    s->offsets.n = 0; /* (start, end) of each token */
    Py_ssize_t i = 0;
    while (i < len) {
        if (!is_word(data[i])) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        while (j < len && is_word(data[j])) j++;
        if (j - i >= 2 && (put_offset(s, i) || put_offset(s, j))) return -1;
        i = j;
    }
    return hash_word_ngrams(s, data, VEC_AT(s->offsets, Py_ssize_t),
                            (Py_ssize_t)s->offsets.n / 2, min_n, max_n);
}

/* char_wb_ngrams of an ASCII text: each byte is its own code point, so the n-grams are
 * hashed straight from the padded word, with no offsets to keep. */
static int char_wb_ascii(state *s, const unsigned char *data, Py_ssize_t len, long min_n,
                         long max_n) {
    Py_ssize_t i = 0;
    while (i < len) {
        if (Py_UNICODE_ISSPACE(data[i])) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        while (j < len && !Py_UNICODE_ISSPACE(data[j])) j++;
        const Py_ssize_t w_len = j - i + 2;
        if (vec_reserve(&s->bytes, (size_t)w_len, 1)) goto nomem;
        unsigned char *b = (unsigned char *)s->bytes.p;
        b[0] = ' ';
        memcpy(b + 1, data + i, (size_t)(j - i));
        b[w_len - 1] = ' ';
        for (long n = min_n; n <= max_n; n++) {
            Py_ssize_t hi = n < w_len ? n : w_len;
            if (put_bucket(s, b, hi)) goto nomem;
            Py_ssize_t offset = 1;
            for (; offset + n <= w_len; offset++)
                if (put_bucket(s, b + offset, n)) goto nomem;
            if (offset == 1) break; /* a short word is counted once */
        }
        i = j;
    }
    return 0;
nomem:
    s->error = 1;
    return -1;
}

/* char_wb n-grams of each whitespace-separated word, padded with a space each side. */
static int char_wb_ngrams(state *s, int kind, const void *data, Py_ssize_t len, long min_n,
                          long max_n) {
    Py_ssize_t i = 0;
    while (i < len) {
        if (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i))) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        while (j < len && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j))) j++;
        /* the padded word: ' ' + text[i:j] + ' ', with each code point's byte offset */
        s->bytes.n = 0;
        s->offsets.n = 0;
        if (put_offset(s, 0) || put_utf8(s, ' ')) return -1;
        for (Py_ssize_t k = i; k < j; k++)
            if (put_offset(s, (Py_ssize_t)s->bytes.n) ||
                put_utf8(s, PyUnicode_READ(kind, data, k)))
                return -1;
        if (put_offset(s, (Py_ssize_t)s->bytes.n) || put_utf8(s, ' ')) return -1;
        if (put_offset(s, (Py_ssize_t)s->bytes.n)) return -1;
        const Py_ssize_t w_len = j - i + 2;
        const Py_ssize_t *off = VEC_AT(s->offsets, Py_ssize_t);
        const unsigned char *b = (const unsigned char *)s->bytes.p;
        for (long n = min_n; n <= max_n; n++) {
            Py_ssize_t offset = 0;
            Py_ssize_t hi = n < w_len ? n : w_len;
            if (put_bucket(s, b, off[hi])) goto nomem;
            while (offset + n < w_len) {
                offset++;
                if (put_bucket(s, b + off[offset], off[offset + n] - off[offset])) goto nomem;
            }
            if (offset == 0) break; /* a short word is counted once */
        }
        i = j;
    }
    return 0;
nomem:
    s->error = 1;
    return -1;
}

/* Sort the current text's buckets (LSD radix, 11 bits a pass) and append them to the
 * output as (index, count) pairs, one per distinct bucket. */
static int flush_text(state *s, int binary, int bits) {
    size_t n = s->bucket.n;
    if (vec_reserve(&s->tmp, n, sizeof(uint32_t))) return -1;
    uint32_t *a = (uint32_t *)s->bucket.p, *t = (uint32_t *)s->tmp.p;
    if (n > 1) {
        for (int shift = 0; shift < bits; shift += 11) {
            size_t count[2049];
            memset(count, 0, sizeof(count));
            for (size_t k = 0; k < n; k++) count[((a[k] >> shift) & 2047) + 1]++;
            for (int k = 0; k < 2048; k++) count[k + 1] += count[k];
            for (size_t k = 0; k < n; k++) t[count[(a[k] >> shift) & 2047]++] = a[k];
            uint32_t *swap = a;
            a = t;
            t = swap;
        }
    }
    if (vec_reserve(&s->indices, s->indices.n + n, sizeof(int32_t)) ||
        vec_reserve(&s->data, s->data.n + n, sizeof(double)) ||
        vec_reserve(&s->indptr, s->indptr.n + 1, sizeof(int64_t)))
        return -1;
    int32_t *oi = VEC_AT(s->indices, int32_t);
    double *od = VEC_AT(s->data, double);
    for (size_t k = 0; k < n;) {
        size_t r = k + 1;
        while (r < n && a[r] == a[k]) r++;
        oi[s->indices.n] = (int32_t)a[k];
        od[s->data.n] = binary ? 1.0 : (double)(r - k);
        s->indices.n++;
        s->data.n++;
        k = r;
    }
    VEC_AT(s->indptr, int64_t)[s->indptr.n++] = (int64_t)s->indices.n;
    s->bucket.n = 0;
    return 0;
}

static PyObject *as_bytearray(const vec *v, size_t item) {
    return PyByteArray_FromStringAndSize(v->p ? v->p : "", (Py_ssize_t)(v->n * item));
}

/* 1 if n_features is a valid hash space (what int32 indices hold), else 0 with ValueError */
static int valid_n_features(Py_ssize_t n_features) {
    if (n_features >= 1 && n_features <= 2147483647) return 1;
    PyErr_SetString(PyExc_ValueError, "n_features must be in [1, 2**31 - 1]");
    return 0;
}

/* The texts of a call, read once: each one's kind, data, length and whether it is ASCII. */
typedef struct {
    PyObject *seq;
    Py_ssize_t n;
    int *kinds;
    const void **datas;
    Py_ssize_t *lens;
    char *asciis;
} texts_view;

static void view_close(texts_view *v) {
    PyMem_Free(v->asciis);
    PyMem_Free(v->kinds);
    PyMem_Free(v->datas);
    PyMem_Free(v->lens);
    Py_XDECREF(v->seq);
}

/* 0, or -1 with an exception set (not a sequence of str, no memory) */
static int view_open(PyObject *texts, texts_view *v) {
    memset(v, 0, sizeof(*v));
    v->seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!v->seq) return -1;
    v->n = PySequence_Fast_GET_SIZE(v->seq);
    PyObject **items = PySequence_Fast_ITEMS(v->seq);
    size_t n = (size_t)(v->n ? v->n : 1);
    v->kinds = PyMem_Malloc(sizeof(int) * n);
    v->datas = PyMem_Malloc(sizeof(void *) * n);
    v->lens = PyMem_Malloc(sizeof(Py_ssize_t) * n);
    v->asciis = PyMem_Malloc(n);
    if (!v->kinds || !v->datas || !v->lens || !v->asciis) {
        view_close(v);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < v->n; k++) {
        PyObject *t = items[k];
        if (!PyUnicode_Check(t) || PyUnicode_READY(t) < 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "texts[%zd] is not a str", k);
            view_close(v);
            return -1;
        }
        v->kinds[k] = PyUnicode_KIND(t);
        v->datas[k] = PyUnicode_DATA(t);
        v->lens[k] = PyUnicode_GET_LENGTH(t);
        v->asciis[k] = (char)PyUnicode_IS_ASCII(t);
    }
    return 0;
}

/* The buckets of text k's n-grams into s->bucket (repeats included); -1 on error */
static int text_ngrams(state *s, const texts_view *v, Py_ssize_t k, int char_wb, long min_n,
                       long max_n) {
    if (!char_wb)
        return v->asciis[k] ? word_ngrams_ascii(s, v->datas[k], v->lens[k], min_n, max_n)
                            : word_ngrams(s, v->kinds[k], v->datas[k], v->lens[k], min_n, max_n);
    if (v->asciis[k]) return char_wb_ascii(s, v->datas[k], v->lens[k], min_n, max_n);
    return char_wb_ngrams(s, v->kinds[k], v->datas[k], v->lens[k], min_n, max_n);
}

static void state_init(state *s, Py_ssize_t n_features) {
    memset(s, 0, sizeof(*s));
    s->n_features = n_features;
    s->mask = (n_features & (n_features - 1)) == 0 ? (uint32_t)(n_features - 1) : 0;
}

static void state_free(state *s) {
    vec *all[] = {&s->bucket, &s->tmp, &s->bytes, &s->offsets, &s->ngram, &s->indices,
                  &s->data, &s->indptr};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) free(all[k]->p);
}

static void set_ngram_error(const state *s) {
    if (s->error == 2)
        PyErr_SetString(PyExc_ValueError, "a text holds a lone surrogate");
    else
        PyErr_NoMemory();
}

static int valid_range(long min_n, long max_n) {
    if (min_n >= 1 && max_n >= min_n) return 1;
    PyErr_SetString(PyExc_ValueError, "need 1 <= min_n <= max_n");
    return 0;
}

static PyObject *counts(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *texts;
    int char_wb, binary;
    long min_n, max_n;
    Py_ssize_t n_features;
    texts_view v;
    if (!PyArg_ParseTuple(args, "Opllnp", &texts, &char_wb, &min_n, &max_n, &n_features,
                          &binary))
        return NULL;
    if (!valid_range(min_n, max_n) || !valid_n_features(n_features)) return NULL;
    if (view_open(texts, &v)) return NULL;
    state s;
    state_init(&s, n_features);
    int bits = 0;
    while (bits < 31 && ((Py_ssize_t)1 << bits) < n_features) bits++;
    int failed = vec_reserve(&s.indptr, 1, sizeof(int64_t));
    if (!failed) VEC_AT(s.indptr, int64_t)[s.indptr.n++] = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < v.n && !failed; k++)
        if (text_ngrams(&s, &v, k, char_wb, min_n, max_n) || flush_text(&s, binary, bits))
            failed = 1;
    Py_END_ALLOW_THREADS
    view_close(&v);
    PyObject *result = NULL;
    if (failed) {
        set_ngram_error(&s);
    } else {
        PyObject *a = as_bytearray(&s.indptr, sizeof(int64_t));
        PyObject *b = as_bytearray(&s.indices, sizeof(int32_t));
        PyObject *c = as_bytearray(&s.data, sizeof(double));
        if (a && b && c) result = PyTuple_Pack(3, a, b, c);
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_XDECREF(c);
    }
    state_free(&s);
    return result;
}

/* -- sublinear tf dot products, without the counts ---------------------------------------- */

/* Fold the current text's buckets (s->bucket, emptied) into an open-addressing table of
 * (bucket, count): *keys and *cnt are the table, *slots its used slots in first-seen
 * order; returns how many distinct buckets there are, or -1 without memory. */
static Py_ssize_t fold_table(state *s, uint32_t **keys_out, uint32_t **cnt_out,
                             uint32_t **slots_out) {
    size_t n = s->bucket.n, cap = 16;
    while (cap < 2 * n) cap *= 2;
    /* tmp holds the table: keys then counts; indices the used slots */
    if (vec_reserve(&s->tmp, 2 * cap, sizeof(uint32_t)) ||
        vec_reserve(&s->indices, n ? n : 1, sizeof(uint32_t)))
        return -1;
    uint32_t *keys = (uint32_t *)s->tmp.p, *cnt = keys + cap, *slots = (uint32_t *)s->indices.p;
    memset(keys, 0xFF, cap * sizeof(uint32_t)); /* 0xFFFFFFFF: empty (buckets < 2**31) */
    const uint32_t *a = (const uint32_t *)s->bucket.p;
    size_t distinct = 0, mask = cap - 1;
    for (size_t k = 0; k < n; k++) {
        size_t h = (a[k] * 2654435761u) & mask;
        while (keys[h] != a[k] && keys[h] != 0xFFFFFFFFu) h = (h + 1) & mask;
        if (keys[h] == a[k]) {
            cnt[h]++;
        } else {
            keys[h] = a[k];
            cnt[h] = 1;
            slots[distinct++] = (uint32_t)h;
        }
    }
    s->bucket.n = 0;
    *keys_out = keys;
    *cnt_out = cnt;
    *slots_out = slots;
    return (Py_ssize_t)distinct;
}

/* Over the current text's distinct buckets, in first-seen order, with w = 1 + log(count):
 * *dot = sum of coef[bucket] * w, *sq = sum of w * w. */
static int fold_dot(state *s, const double *coef, double *dot, double *sq) {
    uint32_t *keys, *cnt, *slots;
    Py_ssize_t distinct = fold_table(s, &keys, &cnt, &slots);
    if (distinct < 0) return -1;
    double d = 0.0, q = 0.0;
    for (Py_ssize_t k = 0; k < distinct; k++) {
        uint32_t h = slots[k];
        double w = cnt[h] == 1 ? 1.0 : 1.0 + log((double)cnt[h]);
        d += coef[keys[h]] * w;
        q += w * w;
    }
    *dot = d;
    *sq = q;
    return 0;
}

/* *share = the share of the current text's distinct buckets whose bit is 0 in seen
 * (numpy.packbits order: big-endian within a byte); 1.0 for a text without any. */
static int fold_unknown(state *s, const unsigned char *seen, double *share) {
    uint32_t *keys, *cnt, *slots;
    Py_ssize_t distinct = fold_table(s, &keys, &cnt, &slots);
    if (distinct < 0) return -1;
    Py_ssize_t unknown = 0;
    for (Py_ssize_t k = 0; k < distinct; k++) {
        uint32_t b = keys[slots[k]];
        unknown += !((seen[b >> 3] >> (7 - (b & 7))) & 1);
    }
    *share = distinct ? (double)unknown / (double)distinct : 1.0;
    return 0;
}

static PyObject *sublinear_dots(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *texts, *coef_obj;
    int char_wb;
    long min_n, max_n;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "OpllnO", &texts, &char_wb, &min_n, &max_n, &n_features,
                          &coef_obj))
        return NULL;
    if (!valid_range(min_n, max_n) || !valid_n_features(n_features)) return NULL;
    Py_buffer cb;
    if (PyObject_GetBuffer(coef_obj, &cb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (cb.itemsize != 8 || !cb.format || strcmp(cb.format, "d") != 0 ||
        cb.len != n_features * 8) {
        PyBuffer_Release(&cb);
        PyErr_SetString(PyExc_ValueError, "coef must be n_features contiguous float64");
        return NULL;
    }
    texts_view v;
    if (view_open(texts, &v)) {
        PyBuffer_Release(&cb);
        return NULL;
    }
    PyObject *dots = PyByteArray_FromStringAndSize(NULL, v.n * 8);
    PyObject *sqs = PyByteArray_FromStringAndSize(NULL, v.n * 8);
    state s;
    state_init(&s, n_features);
    int failed = !dots || !sqs;
    if (!failed) {
        double *d = (double *)PyByteArray_AS_STRING(dots), *q = (double *)PyByteArray_AS_STRING(sqs);
        const double *coef = cb.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < v.n && !failed; k++)
            if (text_ngrams(&s, &v, k, char_wb, min_n, max_n) || fold_dot(&s, coef, d + k, q + k))
                failed = 1;
        Py_END_ALLOW_THREADS
        if (failed) set_ngram_error(&s);
    }
    view_close(&v);
    state_free(&s);
    PyBuffer_Release(&cb);
    PyObject *result = failed ? NULL : PyTuple_Pack(2, dots, sqs);
    Py_XDECREF(dots);
    Py_XDECREF(sqs);
    return result;
}

static PyObject *unknown_shares(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *texts, *seen_obj;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "OnO", &texts, &n_features, &seen_obj)) return NULL;
    if (!valid_n_features(n_features)) return NULL;
    Py_buffer sb;
    if (PyObject_GetBuffer(seen_obj, &sb, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (sb.len * 8 < n_features) {
        PyBuffer_Release(&sb);
        PyErr_SetString(PyExc_ValueError, "seen must hold n_features bits");
        return NULL;
    }
    texts_view v;
    if (view_open(texts, &v)) {
        PyBuffer_Release(&sb);
        return NULL;
    }
    PyObject *shares = PyByteArray_FromStringAndSize(NULL, v.n * 8);
    state s;
    state_init(&s, n_features);
    int failed = !shares;
    if (!failed) {
        double *out = (double *)PyByteArray_AS_STRING(shares);
        const unsigned char *seen = sb.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < v.n && !failed; k++)
            if (text_ngrams(&s, &v, k, 0, 1, 1) ||
                fold_unknown(&s, seen, out + k))
                failed = 1;
        Py_END_ALLOW_THREADS
        if (failed) set_ngram_error(&s);
    }
    view_close(&v);
    state_free(&s);
    PyBuffer_Release(&sb);
    if (failed) Py_CLEAR(shares);
    return shares;
}

static PyObject *buckets(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *strings;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "On", &strings, &n_features)) return NULL;
    if (!valid_n_features(n_features)) return NULL;
    PyObject *seq = PySequence_Fast(strings, "strings must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int32_t));
    if (!out) {
        Py_DECREF(seq);
        return NULL;
    }
    state s;
    state_init(&s, n_features);
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t len;
        /* PyUnicode_AsUTF8AndSize refuses lone surrogates, as str.encode does */
        const char *utf8 = PyUnicode_Check(items[k]) ? PyUnicode_AsUTF8AndSize(items[k], &len)
                                                     : NULL;
        if (!utf8) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "strings[%zd] is not a str", k);
            else if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "a string holds a lone surrogate");
            }
            free(s.bucket.p);
            Py_DECREF(out);
            Py_DECREF(seq);
            return NULL;
        }
        if (put_bucket(&s, (const unsigned char *)utf8, len)) {
            free(s.bucket.p);
            Py_DECREF(out);
            Py_DECREF(seq);
            return PyErr_NoMemory();
        }
    }
    if (n) memcpy(PyByteArray_AS_STRING(out), s.bucket.p, (size_t)n * sizeof(int32_t));
    free(s.bucket.p);
    Py_DECREF(seq);
    return out;
}

/* -- sha1_32: datasketch's sha1_hash32 (the first 4 bytes of SHA-1, little-endian) -- */

static void sha1_block(uint32_t h[5], const unsigned char *block) {
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
               (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 80; t++) w[t] = rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
#define SHA1_ROUND(f, k)                                  \
    do {                                                  \
        uint32_t tmp = rotl32(a, 5) + (f) + e + (k) + w[t]; \
        e = d, d = c, c = rotl32(b, 30), b = a, a = tmp;  \
    } while (0)
    int t = 0;
    for (; t < 20; t++) SHA1_ROUND((b & c) | (~b & d), 0x5A827999u);
    for (; t < 40; t++) SHA1_ROUND(b ^ c ^ d, 0x6ED9EBA1u);
    for (; t < 60; t++) SHA1_ROUND((b & c) | (b & d) | (c & d), 0x8F1BBCDCu);
    for (; t < 80; t++) SHA1_ROUND(b ^ c ^ d, 0xCA62C1D6u);
#undef SHA1_ROUND
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static uint32_t sha1_first32(const unsigned char *msg, size_t len) {
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    size_t full = len / 64;
    for (size_t i = 0; i < full; i++) sha1_block(h, msg + 64 * i);
    /* the tail, 0x80, zeros and the 64-bit big-endian bit length: one or two blocks */
    unsigned char last[128];
    size_t rest = len - 64 * full, size = rest < 56 ? 64 : 128;
    memset(last, 0, size);
    if (rest) memcpy(last, msg + 64 * full, rest);
    last[rest] = 0x80;
    uint64_t bits = (uint64_t)len * 8u;
    for (int i = 0; i < 8; i++) last[size - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha1_block(h, last);
    if (size == 128) sha1_block(h, last + 64);
    /* digest[:4] is h[0] big-endian; read as '<I' that is h[0] byte-swapped */
    uint32_t x = h[0];
    return (x >> 24) | ((x >> 8) & 0xFF00u) | ((x << 8) & 0xFF0000u) | (x << 24);
}

static PyObject *sha1_32(PyObject *self, PyObject *arg) {
    (void)self;
    PyObject *seq = PySequence_Fast(arg, "items must be a sequence of bytes");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint32_t));
    if (!out) {
        Py_DECREF(seq);
        return NULL;
    }
    uint32_t *dst = (uint32_t *)PyByteArray_AS_STRING(out);
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!PyBytes_Check(items[k])) {
            PyErr_Format(PyExc_TypeError, "items[%zd] is not bytes", k);
            Py_DECREF(out);
            Py_DECREF(seq);
            return NULL;
        }
        dst[k] = sha1_first32((const unsigned char *)PyBytes_AS_STRING(items[k]),
                              (size_t)PyBytes_GET_SIZE(items[k]));
    }
    Py_DECREF(seq);
    return out;
}

static PyObject *shingle_sha1_32(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "Un", &text, &size)) return NULL;
    if (size < 1) {
        PyErr_SetString(PyExc_ValueError, "size must be at least 1");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    const unsigned char *p = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), words = 0;
    /* only the prepared form: words of a-z joined by single spaces; None otherwise */
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == ' ') {
            if (i == 0 || i == n - 1 || p[i - 1] == ' ') Py_RETURN_NONE;
        } else if (c < 'a' || c > 'z') {
            Py_RETURN_NONE;
        } else if (i == 0 || p[i - 1] == ' ') {
            words++;
        }
    }
    Py_ssize_t count = words == 0 ? 0 : words <= size ? 1 : words - size + 1;
    PyObject *out = PyByteArray_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(uint32_t));
    if (!out || count == 0) return out;
    uint32_t *dst = (uint32_t *)PyByteArray_AS_STRING(out);
    if (count == 1) {
        dst[0] = sha1_first32(p, (size_t)n);
        return out;
    }
    /* shingle k runs from the start of word k to the end of word k + size - 1 */
    Py_ssize_t *start = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)words);
    Py_ssize_t *end = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)words);
    if (!start || !end) {
        PyMem_Free(start);
        PyMem_Free(end);
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    Py_ssize_t w = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p[i] != ' ' && (i == 0 || p[i - 1] == ' ')) start[w] = i;
        if (p[i] != ' ' && (i == n - 1 || p[i + 1] == ' ')) end[w++] = i + 1;
    }
    for (Py_ssize_t k = 0; k < count; k++)
        dst[k] = sha1_first32(p + start[k], (size_t)(end[k + size - 1] - start[k]));
    PyMem_Free(start);
    PyMem_Free(end);
    return out;
}

/* -- phrase_windows: the phrases of evidence (veracity.explain._phrases, in C) -------- */

static int is_blank(Py_UCS4 c) { return c == ' ' || c == '\t'; }
static int is_joiner(Py_UCS4 c) {
    return c == '-' || c == 0x2013 || c == 0x2014 || c == '/' || c == '&';
}

/* Whether text[from:to] fully matches [ \t]{1,3}|[ \t]?[-\u2013\u2014/&][ \t]?|\. */
static int joins(int kind, const void *data, Py_ssize_t from, Py_ssize_t to) {
    Py_ssize_t len = to - from;
    if (len < 1 || len > 3) return 0;
    Py_UCS4 c[3];
    for (Py_ssize_t k = 0; k < len; k++) c[k] = PyUnicode_READ(kind, data, from + k);
    int blanks = 1;
    for (Py_ssize_t k = 0; k < len; k++) blanks &= is_blank(c[k]);
    if (blanks) return 1;
    if (len == 1) return is_joiner(c[0]) || c[0] == '.';
    if (len == 2) return (is_blank(c[0]) && is_joiner(c[1])) || (is_joiner(c[0]) && is_blank(c[1]));
    return is_blank(c[0]) && is_joiner(c[1]) && is_blank(c[2]);
}

typedef struct {
    double key; /* -abs(total) */
    Py_ssize_t a, b;
    double total;
} window;

static int window_order(const void *x, const void *y) {
    const window *u = x, *v = y;
    if (u->key != v->key) return u->key < v->key ? -1 : 1;
    if (u->a != v->a) return u->a < v->a ? -1 : 1;
    if (u->b != v->b) return u->b < v->b ? -1 : 1;
    return 0;
}

static int append_phrase(PyObject *out, Py_ssize_t start, Py_ssize_t end, double total) {
    PyObject *item = Py_BuildValue("(nnd)", start, end, total);
    if (!item) return -1;
    int failed = PyList_Append(out, item);
    Py_DECREF(item);
    return failed;
}

static PyObject *phrase_windows(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer sb = {0}, eb = {0}, wb = {0}, fb = {0}, lb = {0};
    Py_ssize_t max_words, piece_words;
    if (!PyArg_ParseTuple(args, "Uy*y*y*y*y*nn", &text, &sb, &eb, &wb, &fb, &lb, &max_words,
                          &piece_words))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t *run = NULL;
    window *windows = NULL;
    unsigned char *taken = NULL;
    Py_ssize_t n = sb.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (sb.len % (Py_ssize_t)sizeof(int64_t) || eb.len != sb.len ||
        wb.len != n * (Py_ssize_t)sizeof(double) || fb.len != n || lb.len != n || max_words < 1 ||
        piece_words < 1) {
        PyErr_SetString(PyExc_ValueError, "phrase_windows: arrays of different lengths");
        goto done;
    }
    const int64_t *starts = sb.buf, *ends = eb.buf;
    const double *weights = wb.buf;
    const unsigned char *function = fb.buf, *too_long = lb.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (starts[i] < 0 || ends[i] < starts[i] || ends[i] > length) {
            PyErr_SetString(PyExc_ValueError, "phrase_windows: a span outside the text");
            goto done;
        }
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    out = PyList_New(0);
    run = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    windows = PyMem_Malloc(sizeof(window) * (size_t)(piece_words * max_words));
    taken = PyMem_Malloc((size_t)piece_words);
    if (!out || !run || !windows || !taken) {
        if (out) PyErr_NoMemory();
        Py_CLEAR(out);
        goto done;
    }
    Py_ssize_t i = 0;
    while (i < n) {
        if (weights[i] == 0.0) {
            i++;
            continue;
        }
        /* one run: adjacent words pushing the same way, joined by a space, dash, ... */
        Py_ssize_t len = 0;
        run[len++] = i;
        while (i + 1 < n && weights[i + 1] != 0.0 && (weights[i] > 0) == (weights[i + 1] > 0) &&
               joins(kind, data, ends[i], starts[i + 1])) {
            run[len++] = ++i;
        }
        i++;
        if (len == 1) {
            Py_ssize_t w = run[0];
            if (!function[w] && append_phrase(out, starts[w], ends[w], 0.0 + weights[w]) < 0) {
                Py_CLEAR(out);
                goto done;
            }
            continue;
        }
        for (Py_ssize_t k = 0; k < len; k += piece_words) {
            Py_ssize_t m = len - k < piece_words ? len - k : piece_words;
            if (m < 1) break; /* never: k < len */
            const Py_ssize_t *piece = run + k;
            Py_ssize_t count = 0;
            for (Py_ssize_t a = 0; a < m; a++) {
                if (function[piece[a]]) continue;
                double total = 0.0;
                for (Py_ssize_t b = a; b < a + max_words && b < m; b++) {
                    if (too_long[piece[b]]) break;
                    total += weights[piece[b]];
                    if (!function[piece[b]]) {
                        windows[count].key = -fabs(total);
                        windows[count].a = a;
                        windows[count].b = b;
                        windows[count].total = total;
                        count++;
                    }
                }
            }
            qsort(windows, (size_t)count, sizeof(window), window_order);
            memset(taken, 0, (size_t)m);
            for (Py_ssize_t w = 0; w < count; w++) {
                int free_span = 1;
                for (Py_ssize_t x = windows[w].a; x <= windows[w].b; x++) free_span &= !taken[x];
                if (!free_span) continue;
                for (Py_ssize_t x = windows[w].a; x <= windows[w].b; x++) taken[x] = 1;
                if (append_phrase(out, starts[piece[windows[w].a]], ends[piece[windows[w].b]],
                                  windows[w].total) < 0) {
                    Py_CLEAR(out);
                    goto done;
                }
            }
        }
    }
done:
    PyMem_Free(run);
    PyMem_Free(windows);
    PyMem_Free(taken);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    PyBuffer_Release(&wb);
    PyBuffer_Release(&fb);
    PyBuffer_Release(&lb);
    return out;
}

/* -- which of several needles a text holds --------------------------------------------- */

static inline uint32_t tri_hash(Py_UCS4 a, Py_UCS4 b, Py_UCS4 c) {
    return (a * 0x9E3779B1u ^ b * 0x85EBCA77u ^ c * 0xC2B2AE3Du) >> 16; /* 16 bits */
}

/* 1 if needle t (1 or 2 characters) occurs in the haystack */
static int short_in(int hk, const void *hd, Py_ssize_t hl, PyObject *t) {
    Py_ssize_t tl = PyUnicode_GET_LENGTH(t);
    Py_UCS4 a = PyUnicode_READ_CHAR(t, 0), b = tl > 1 ? PyUnicode_READ_CHAR(t, 1) : 0;
    if (hk == PyUnicode_1BYTE_KIND) {
        if (a > 255) return 0;
        const unsigned char *p = hd, *at = p, *end = p + hl;
        while ((at = memchr(at, (int)a, (size_t)(end - at))) != NULL) {
            if (tl == 1 || (at + 1 < end && at[1] == b)) return 1;
            at++;
        }
        return 0;
    }
    for (Py_ssize_t i = 0; i + tl <= hl; i++)
        if (PyUnicode_READ(hk, hd, i) == a && (tl == 1 || PyUnicode_READ(hk, hd, i + 1) == b))
            return 1;
    return 0;
}

/* present(haystack, needles): the set of those needles (str) that occur in haystack, as
 * {n for n in needles if n in haystack} gives it, in one pass over haystack. Needles of
 * one or two characters are sought on their own (memchr); the others are compared only
 * where a bit set of their first three characters says one may start (about 20 bits of
 * 65,536 set: few false alarms), against the needles whose first character is there. */
static PyObject *present(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *hay, *needles;
    if (!PyArg_ParseTuple(args, "UO", &hay, &needles)) return NULL;
    PyObject *seq = PySequence_Fast(needles, "needles must be an iterable of str");
    if (!seq) return NULL;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    const int hk = PyUnicode_KIND(hay);
    const void *hd = PyUnicode_DATA(hay);
    const Py_ssize_t hl = PyUnicode_GET_LENGTH(hay);
    PyObject *out = PySet_New(NULL);
    /* head[c]: the first long needle starting with character c (< 256; wide: >= 256),
     * chained through next[] in the needles' order */
    Py_ssize_t head[256], wide = -1, left = 0;
    Py_ssize_t *next = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    char *found = PyMem_Calloc((size_t)(n ? n : 1), 1);
    unsigned char *tri = PyMem_Calloc(8192, 1);
    if (!out || !next || !found || !tri) {
        if (out) PyErr_NoMemory();
        goto fail;
    }
    for (int c = 0; c < 256; c++) head[c] = -1;
    for (Py_ssize_t j = n - 1; j >= 0; j--) {
        PyObject *t = items[j];
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "needles[%zd] is not a str", j);
            goto fail;
        }
        Py_ssize_t tl = PyUnicode_GET_LENGTH(t);
        if (tl > hl || PyUnicode_KIND(t) > hk) continue; /* cannot occur */
        if (tl < 3) {
            if ((tl == 0 || short_in(hk, hd, hl, t)) && PySet_Add(out, t) < 0) goto fail;
            continue;
        }
        Py_UCS4 c0 = PyUnicode_READ_CHAR(t, 0);
        uint32_t h = tri_hash(c0, PyUnicode_READ_CHAR(t, 1), PyUnicode_READ_CHAR(t, 2));
        tri[h >> 3] |= (unsigned char)(1 << (h & 7));
        Py_ssize_t *chain = c0 < 256 ? &head[c0] : &wide;
        next[j] = *chain;
        *chain = j;
        left++;
    }
#define PRESENT_SCAN(T)                                                                     \
    {                                                                                       \
        const T *p = (const T *)hd;                                                         \
        for (Py_ssize_t i = 0; i + 2 < hl && left > 0; i++) {                               \
            uint32_t h = tri_hash(p[i], p[i + 1], p[i + 2]);                                \
            if (!(tri[h >> 3] & (1 << (h & 7)))) continue;                                  \
            for (Py_ssize_t j = p[i] < 256 ? head[p[i]] : wide; j >= 0; j = next[j]) {      \
                PyObject *t = items[j];                                                     \
                const Py_ssize_t tl = PyUnicode_GET_LENGTH(t);                              \
                const int kt = PyUnicode_KIND(t);                                           \
                const void *td = PyUnicode_DATA(t);                                         \
                if (found[j] || tl > hl - i) continue;                                      \
                Py_ssize_t k = 0;                                                           \
                while (k < tl && PyUnicode_READ(kt, td, k) == (Py_UCS4)p[i + k]) k++;       \
                if (k < tl) continue;                                                       \
                found[j] = 1;                                                               \
                left--;                                                                     \
                if (PySet_Add(out, t) < 0) goto fail;                                       \
            }                                                                               \
        }                                                                                   \
    }
    if (hk == PyUnicode_1BYTE_KIND)
        PRESENT_SCAN(Py_UCS1)
    else if (hk == PyUnicode_2BYTE_KIND)
        PRESENT_SCAN(Py_UCS2)
    else
        PRESENT_SCAN(Py_UCS4)
#undef PRESENT_SCAN
    PyMem_Free(tri);
    PyMem_Free(found);
    PyMem_Free(next);
    Py_DECREF(seq);
    return out;
fail:
    PyMem_Free(tri);
    PyMem_Free(found);
    PyMem_Free(next);
    Py_XDECREF(out);
    Py_DECREF(seq);
    return NULL;
}

/* -- letter words ------------------------------------------------------------------------ */

/* letter_words(text, codes): (words, hits) where words are the maximal runs of ASCII
 * letters of text (what normalize(text).split() gives) and hits those whose lowercase
 * code (letter k, a=1..z=26, at bits 5k; runs of more than 12 letters have none) is in
 * codes, a sorted uint64 buffer. */
static PyObject *letter_words(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text, *codes_obj;
    if (!PyArg_ParseTuple(args, "UO", &text, &codes_obj)) return NULL;
    Py_buffer cb;
    if (PyObject_GetBuffer(codes_obj, &cb, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (cb.len % 8) {
        PyBuffer_Release(&cb);
        PyErr_SetString(PyExc_ValueError, "codes must be a uint64 buffer");
        return NULL;
    }
    const uint64_t *codes = cb.buf;
    const Py_ssize_t n_codes = cb.len / 8;
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    Py_ssize_t words = 0, hits = 0;
    for (Py_ssize_t i = 0; i < len;) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            i++;
            continue;
        }
        uint64_t code = 0;
        Py_ssize_t j = i;
        for (; j < len; j++) {
            c = PyUnicode_READ(kind, data, j);
            if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) break;
            if (j - i < 12) code |= (uint64_t)((c | 0x20) - 'a' + 1) << (5 * (j - i));
        }
        words++;
        if (j - i <= 12) {
            Py_ssize_t lo = 0, hi = n_codes;
            while (lo < hi) {
                Py_ssize_t mid = (lo + hi) / 2;
                if (codes[mid] < code) lo = mid + 1;
                else hi = mid;
            }
            hits += lo < n_codes && codes[lo] == code;
        }
        i = j;
    }
    PyBuffer_Release(&cb);
    return Py_BuildValue("nn", words, hits);
}

static PyMethodDef methods[] = {
    {"counts", counts, METH_VARARGS,
     "counts(texts, char_wb, min_n, max_n, n_features, binary) -> (indptr, indices, data)\n\n"
     "HashingVectorizer counts of already-lowercased texts as CSR bytearrays (int64,\n"
     "int32, float64), each row's indices sorted and duplicates summed."},
    {"sublinear_dots", sublinear_dots, METH_VARARGS,
     "sublinear_dots(texts, char_wb, min_n, max_n, n_features, coef) -> (dots, sqs)\n\n"
     "For each already-lowercased text, over its distinct hashed n-grams with count c:\n"
     "sum of coef[bucket] * (1 + log c) and sum of (1 + log c) ** 2, as float64 bytearrays."},
    {"unknown_shares", unknown_shares, METH_VARARGS,
     "unknown_shares(texts, n_features, seen) -> float64 bytearray\n\n"
     "For each text, the share of its distinct hashed words (word unigrams, not lowercased)\n"
     "whose bit in seen (numpy.packbits order) is 0; 1.0 for a text without words."},
    {"letter_words", letter_words, METH_VARARGS,
     "letter_words(text, codes) -> (words, hits)\n\n"
     "The runs of ASCII letters of text, and how many of them (lowercased, 5 bits a letter,\n"
     "at most 12 letters) have their code in codes, a sorted uint64 buffer."},
    {"buckets", buckets, METH_VARARGS,
     "buckets(strings, n_features) -> int32 bytearray\n\n"
     "FeatureHasher's bucket of each string (its UTF-8 bytes, MurmurHash3, seed 0)."},
    {"sha1_32", sha1_32, METH_O,
     "sha1_32(items) -> uint32 bytearray\n\n"
     "datasketch's sha1_hash32 of each bytes item: SHA-1's first 4 bytes, little-endian."},
    {"shingle_sha1_32", shingle_sha1_32, METH_VARARGS,
     "shingle_sha1_32(text, size) -> uint32 bytearray or None\n\n"
     "sha1_32 of each word size-shingle of a prepared text (a-z words, single spaces), in\n"
     "order, repeats included; the whole text if it has at most size words; None for a\n"
     "text not in that form."},
    {"phrase_windows", phrase_windows, METH_VARARGS,
     "phrase_windows(text, starts, ends, weights, function, too_long, max_words, piece)\n"
     "-> list of (start, end, weight)\n\n"
     "veracity.explain._phrases on arrays: starts, ends int64, weights float64, function\n"
     "and too_long uint8, one per word; phrases in the order chosen (unsorted)."},
    {"present", present, METH_VARARGS,
     "present(haystack, needles) -> set of str\n\n"
     "{n for n in needles if n in haystack}, in one pass over haystack."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "veracity.text._ngrams",
    "scikit-learn's HashingVectorizer counts (word and char_wb n-grams), in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__ngrams(void) { return PyModule_Create(&module); }
