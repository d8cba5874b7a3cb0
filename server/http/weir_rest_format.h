/*
 * weir_rest_format.h: the embedded formats of Confluent's REST Proxy and
 * the media types that name them, shared by the produce half
 * (weir_rest_proxy.c) and the consumer instances (weir_rest_consumer.c).
 *
 * REST Proxy v2 media types look like
 *   application/vnd.kafka[.<embedded>].v2+json
 * where <embedded> is binary, json, avro or jsonschema (the format of keys
 * and values inside the JSON body) and the serialization is always json.
 * Confluent also accepts application/vnd.kafka+json (v2 implied),
 * application/json and application/octet-stream for requests without an
 * embedded format, and parameters (";charset=utf-8") after the type.  Names
 * are compared case-insensitively.  Also here: JSON in and out: jansson parses; the compact writer is Weir's own because jansson
 * prints reals with 17 digits (0.1 as 0.10000000000000001), while the json
 * embedded format must store the shortest text that reads back the same,
 * as Confluent's proxy does.
 */
#ifndef WEIR_REST_FORMAT_H
#define WEIR_REST_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "weir_base64.h"
#include "weir_buf.h"

/** Embedded formats of keys and values. */
typedef enum weir_rest_fmt_e {
    WEIR_REST_FMT_NONE = 0,   /* no embedded format named (generic type) */
    WEIR_REST_FMT_BINARY,     /* base64 strings */
    WEIR_REST_FMT_JSON,       /* any JSON value, stored as its JSON text */
    WEIR_REST_FMT_AVRO,       /* JSON-encoded Avro, stored in Confluent's wire format */
    WEIR_REST_FMT_JSONSCHEMA, /* JSON validated by a JSON Schema, Confluent's wire format */
} weir_rest_fmt_t;

/** What a Content-Type or one Accept entry names. */
typedef struct weir_rest_ctype_s {
    weir_rest_fmt_t fmt; /* WEIR_REST_FMT_NONE for generic types */
    int version;         /* 2 for "...v2+json", 0 when the type names no version */
    bool kafka;          /* an application/vnd.kafka... type */
    bool wildcard;       /* Accept: "*\/\*" or "application/\*" */
} weir_rest_ctype_t;

/** "binary", "json", "avro", "jsonschema"; "" for NONE. */
const char *weir_rest_fmt_name(weir_rest_fmt_t fmt);

/**
 * @brief Parses a format name as it appears in a media type or in the
 *        consumer's "format" field (case-insensitive).
 * @returns the format, or -1 if unknown.
 */
int weir_rest_fmt_parse(const char *name, size_t len);

/**
 * @brief Parses one media type (parameters after ';' are ignored):
 *        application/vnd.kafka[.<fmt>][.v<N>]+json, application/vnd.kafka+json,
 *        application/json, application/octet-stream, and when wildcards
 *        are allowed (Accept) *\/\* and application/\*.
 * @returns 0 with out filled, or -1 if the type is not one of these, names
 *          an unknown format, a version other than 2, or another
 *          serialization than json.
 */
int weir_rest_ctype_parse(const char *value, size_t len, bool wildcards, weir_rest_ctype_t *out);

/**
 * @brief Checks a request's Content-Type for a produce-like request.
 *        NULL or empty value is accepted as generic.
 * @returns 0 with out filled, or -1 (the caller answers 415).
 */
int weir_rest_content_type(const char *value, weir_rest_ctype_t *out);

/**
 * @brief Picks the media type of the answer from an Accept header (NULL:
 *        anything).  Entries with q=0 are skipped; the first acceptable
 *        entry wins.  An acceptable entry is a kafka v2 type without an
 *        embedded format (application/vnd.kafka.v2+json,
 *        application/vnd.kafka+json), application/json or a wildcard; an
 *        entry naming an embedded format (consumer records) is acceptable
 *        only when it equals want (WEIR_REST_FMT_NONE: never).
 * @returns the type to send ("application/vnd.kafka.v2+json",
 *          "application/json" or, for a format entry,
 *          "application/vnd.kafka.<fmt>.v2+json"), or NULL (406).
 */
const char *weir_rest_accept(const char *accept, weir_rest_fmt_t want);

/**
 * @brief Parses one JSON value from buf[0..len) with jansson
 *        (JSON_DECODE_ANY, JSON_ALLOW_NUL: strings may hold \u0000).  With
 *        consumed NULL only whitespace may follow the value; otherwise
 *        parsing stops after the value (an object or array) and *consumed
 *        is the offset just past it: a stream of concatenated values, as v3
 *        produce takes.
 * @returns the value (caller json_decref()s it), or NULL with "... at line L
 *          column C" in err.
 */
json_t *weir_rest_json_parse(const char *buf, size_t len, size_t *consumed, char *err,
                             size_t errsz);

/**
 * @brief Appends the compact JSON text of v to w: no whitespace, object
 *        members in their order, strings as UTF-8 with only ", \\ and
 *        control characters escaped, integers as such, reals in their
 *        shortest form that reads back the same (always with a '.' or an
 *        exponent).  The text Confluent's proxy produces for the json
 *        embedded format, and what Python's json.dumps gives with
 *        separators=(",", ":") and ensure_ascii=False.
 */
void weir_rest_json_write(weir_wbuf_t *w, const json_t *v);

#endif
