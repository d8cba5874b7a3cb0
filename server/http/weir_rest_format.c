/*
 * weir_rest_format.c: REST Proxy embedded formats, media type parsing,
 * base64, and the JSON parser and writer (see weir_rest_format.h).
 */
#include "weir_rest_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "weir_common.h"

static const char *const weir_rest_fmt_names[] = {
    [WEIR_REST_FMT_NONE] = "",
    [WEIR_REST_FMT_BINARY] = "binary",
    [WEIR_REST_FMT_JSON] = "json",
    [WEIR_REST_FMT_AVRO] = "avro",
    [WEIR_REST_FMT_JSONSCHEMA] = "jsonschema",
};

const char *
weir_rest_fmt_name(weir_rest_fmt_t fmt)
{
    if ((int)fmt < 0 || (size_t)fmt >= sizeof(weir_rest_fmt_names) / sizeof(*weir_rest_fmt_names))
        return "";
    return weir_rest_fmt_names[fmt];
}

int
weir_rest_fmt_parse(const char *name, size_t len)
{
    for (int f = WEIR_REST_FMT_BINARY; f <= WEIR_REST_FMT_JSONSCHEMA; f++) {
        const char *n = weir_rest_fmt_names[f];
        if (strlen(n) == len && strncasecmp(n, name, len) == 0)
            return f;
    }
    return -1;
}

static bool
weir_rest_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether s[0..len) equals lit, ignoring case. */
static bool
weir_rest_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

int
weir_rest_ctype_parse(const char *value, size_t len, bool wildcards, weir_rest_ctype_t *out)
{
    const char *s = value, *e, *semi;
    const char *prefix = "application/vnd.kafka";
    size_t plen = strlen(prefix);

    memset(out, 0, sizeof(*out));
    semi = memchr(s, ';', len);
    e = semi ? semi : s + len;
    while (s < e && weir_rest_is_space(*s))
        s++;
    while (e > s && weir_rest_is_space(e[-1]))
        e--;
    len = (size_t)(e - s);
    if (len == 0)
        return -1;
    if (weir_rest_eq(s, len, "application/json") ||
        weir_rest_eq(s, len, "application/octet-stream"))
        return 0;
    if (weir_rest_eq(s, len, "*/*") || weir_rest_eq(s, len, "application/*")) {
        if (!wildcards)
            return -1;
        out->wildcard = true;
        return 0;
    }
    if (len < plen || strncasecmp(s, prefix, plen) != 0)
        return -1;
    out->kafka = true;
    s += plen;
    len -= plen;
    /* the rest: [.<fmt>][.v<N>]+json */
    if (len < 5 || !weir_rest_eq(s + len - 5, 5, "+json"))
        return -1;
    len -= 5;
    while (len > 0) {
        const char *dot;
        size_t n;
        if (*s != '.')
            return -1;
        s++;
        len--;
        dot = memchr(s, '.', len);
        n = dot ? (size_t)(dot - s) : len;
        if (n == 0)
            return -1;
        if ((s[0] == 'v' || s[0] == 'V') && n >= 2 && strspn(s + 1, "0123456789") >= n - 1) {
            if (out->version || n > 4)
                return -1;
            for (size_t i = 1; i < n; i++)
                out->version = out->version * 10 + (s[i] - '0');
            if (out->version != 2)
                return -1;
        } else {
            int f = weir_rest_fmt_parse(s, n);
            if (f < 0 || out->fmt || out->version)
                return -1; /* unknown format, two formats, or the format after the version */
            out->fmt = (weir_rest_fmt_t)f;
        }
        s += n;
        len -= n;
    }
    return 0;
}

int
weir_rest_content_type(const char *value, weir_rest_ctype_t *out)
{
    if (!value || !*value) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    return weir_rest_ctype_parse(value, strlen(value), false, out);
}

/* The q value of one Accept entry's parameters (1 when absent). */
static double
weir_rest_qvalue(const char *params, size_t len)
{
    const char *p = params, *end = params + len;

    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        while (p < pe && weir_rest_is_space(*p))
            p++;
        if (pe - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char buf[16];
            size_t n = WEIR_MIN((size_t)(pe - p - 2), sizeof(buf) - 1);
            memcpy(buf, p + 2, n);
            buf[n] = 0;
            return strtod(buf, NULL);
        }
        p = semi ? semi + 1 : end;
    }
    return 1.0;
}

const char *
weir_rest_accept(const char *accept, weir_rest_fmt_t want)
{
    const char *p = accept, *end;
    static const char *const fmt_types[] = {
        [WEIR_REST_FMT_NONE] = "application/vnd.kafka.v2+json",
        [WEIR_REST_FMT_BINARY] = "application/vnd.kafka.binary.v2+json",
        [WEIR_REST_FMT_JSON] = "application/vnd.kafka.json.v2+json",
        [WEIR_REST_FMT_AVRO] = "application/vnd.kafka.avro.v2+json",
        [WEIR_REST_FMT_JSONSCHEMA] = "application/vnd.kafka.jsonschema.v2+json",
    };

    if (!accept || !*accept)
        return fmt_types[want];
    end = accept + strlen(accept);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *ee = comma ? comma : end;
        const char *semi = memchr(p, ';', (size_t)(ee - p));
        weir_rest_ctype_t ct;

        if (weir_rest_ctype_parse(p, (size_t)(ee - p), true, &ct) == 0 &&
            (!semi || weir_rest_qvalue(semi + 1, (size_t)(ee - semi - 1)) > 0)) {
            if (ct.wildcard)
                return fmt_types[want];
            if (!ct.kafka)
                return "application/json";
            if (ct.fmt == WEIR_REST_FMT_NONE)
                return fmt_types[want];
            if (ct.fmt == want)
                return fmt_types[want];
        }
        p = comma ? comma + 1 : end;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

json_t *
weir_rest_json_parse(const char *buf, size_t len, size_t *consumed, char *err, size_t errsz)
{
    size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL | (consumed ? JSON_DISABLE_EOF_CHECK : 0);
    json_error_t je;
    json_t *v = json_loadb(buf, len, flags, &je);

    if (!v) {
        snprintf(err, errsz, "%s at line %d column %d", je.text, je.line, je.column);
        return NULL;
    }
    if (consumed)
        *consumed = (size_t)je.position;
    return v;
}

static void
weir_rest_jw_string(weir_wbuf_t *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    weir_wbuf_reserve(w, n + 2);
    w->data[w->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[6];
        size_t el = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        weir_wr_raw(w, s + run, i - run);
        run = i + 1;
        e[0] = '\\';
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
            break;
        }
        weir_wr_raw(w, e, el);
    }
    weir_wr_raw(w, s + run, n - run);
    weir_wr_i8(w, '"');
}

static void
weir_rest_jw_real(weir_wbuf_t *w, double d)
{
    char buf[40];

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    weir_wr_raw(w, buf, strlen(buf));
    if (!strpbrk(buf, ".eEn")) /* keep it a real: 100 -> 100.0 */
        weir_wr_raw(w, ".0", 2);
}

static void
weir_rest_jw(weir_wbuf_t *w, const json_t *v)
{
    char buf[32];

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *m;
        bool first = true;
        weir_wr_i8(w, '{');
        json_object_foreach((json_t *)v, k, m) {
            if (!first)
                weir_wr_i8(w, ',');
            first = false;
            weir_rest_jw_string(w, k, strlen(k));
            weir_wr_i8(w, ':');
            weir_rest_jw(w, m);
        }
        weir_wr_i8(w, '}');
        return;
    }
    case JSON_ARRAY:
        weir_wr_i8(w, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                weir_wr_i8(w, ',');
            weir_rest_jw(w, json_array_get(v, i));
        }
        weir_wr_i8(w, ']');
        return;
    case JSON_STRING:
        weir_rest_jw_string(w, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        weir_wr_raw(w, buf, strlen(buf));
        return;
    case JSON_REAL:
        weir_rest_jw_real(w, json_real_value(v));
        return;
    case JSON_TRUE:
        weir_wr_raw(w, "true", 4);
        return;
    case JSON_FALSE:
        weir_wr_raw(w, "false", 5);
        return;
    case JSON_NULL:
    default:
        weir_wr_raw(w, "null", 4);
        return;
    }
}

void
weir_rest_json_write(weir_wbuf_t *w, const json_t *v)
{
    weir_rest_jw(w, v);
}
