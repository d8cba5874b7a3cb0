/*
 * weir_msg.h: an outgoing message (one Kafka response) as a sequence of
 * pieces: bytes in memory and ranges of segment files.  File ranges go out
 * with sendfile(2) on plaintext connections, so fetched record batches are
 * never copied through user space.
 */
#ifndef WEIR_MSG_H
#define WEIR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_buf.h"
#include "weir_plog.h"

typedef struct weir_piece_s {
    bool is_file;
    size_t off;          /* memory piece: offset into msg->buf */
    size_t len;          /* bytes in this piece */
    weir_slice_t slice;  /* file piece: the segment range (holds a ref) */
} weir_piece_t;

typedef struct weir_msg_s {
    weir_wbuf_t buf;         /* memory bytes; pieces point into it */
    weir_piece_t *pieces;
    size_t npieces, cap;
    size_t cut;              /* start of the memory run not yet cut into a piece */
    size_t total;            /* bytes on the wire once finished */
    bool raw;                /* no Size prefix (HTTP): finish patches nothing */
    /* Send progress, owned by the connection. */
    size_t piece_idx;
    size_t piece_done;
    struct weir_msg_s *next;
} weir_msg_t;

/* A message whose first 4 bytes are a Size placeholder patched by finish. */
weir_msg_t *weir_msg_new(size_t hint);
/* A message of plain bytes without a Size prefix (HTTP responses). */
weir_msg_t *weir_msg_new_raw(size_t hint);
/* Appends a file range (takes ownership of the slice reference). */
void weir_msg_add_slice(weir_msg_t *msg, weir_slice_t *slice);
/* Closes the last memory run and patches Size (total - 4) unless raw. */
void weir_msg_finish(weir_msg_t *msg);
void weir_msg_free(weir_msg_t *msg);

#endif
