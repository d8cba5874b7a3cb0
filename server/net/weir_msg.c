/*
 * weir_msg.c: building outgoing messages out of memory and file pieces.
 */
#include "weir_msg.h"

#include "weir_common.h"

weir_msg_t *
weir_msg_new(size_t hint)
{
    weir_msg_t *msg = weir_calloc(1, sizeof(*msg));

    weir_wbuf_init(&msg->buf, hint < 256 ? 256 : hint);
    weir_wr_i32(&msg->buf, 0); /* Size, patched by weir_msg_finish() */
    return msg;
}

weir_msg_t *
weir_msg_new_raw(size_t hint)
{
    weir_msg_t *msg = weir_calloc(1, sizeof(*msg));

    weir_wbuf_init(&msg->buf, hint < 256 ? 256 : hint);
    msg->raw = true;
    return msg;
}

static weir_piece_t *
weir_msg_piece_add(weir_msg_t *msg)
{
    if (msg->npieces == msg->cap) {
        msg->cap = msg->cap ? msg->cap * 2 : 4;
        msg->pieces = weir_realloc(msg->pieces, msg->cap * sizeof(*msg->pieces));
    }
    memset(&msg->pieces[msg->npieces], 0, sizeof(weir_piece_t));
    return &msg->pieces[msg->npieces++];
}

static void
weir_msg_cut(weir_msg_t *msg)
{
    weir_piece_t *pc;

    if (msg->buf.len == msg->cut)
        return;
    pc = weir_msg_piece_add(msg);
    pc->off = msg->cut;
    pc->len = msg->buf.len - msg->cut;
    msg->cut = msg->buf.len;
    msg->total += pc->len;
}

void
weir_msg_add_slice(weir_msg_t *msg, weir_slice_t *slice)
{
    weir_piece_t *pc;

    if (!slice->seg || slice->len == 0) {
        weir_slice_release(slice);
        return;
    }
    weir_msg_cut(msg);
    pc = weir_msg_piece_add(msg);
    pc->is_file = true;
    pc->len = (size_t)slice->len;
    pc->slice = *slice;
    slice->seg = NULL;
    msg->total += pc->len;
}

void
weir_msg_finish(weir_msg_t *msg)
{
    weir_msg_cut(msg);
    if (!msg->raw)
        weir_put_be32(msg->buf.data, (uint32_t)(msg->total - 4));
}

void
weir_msg_free(weir_msg_t *msg)
{
    for (size_t i = 0; i < msg->npieces; i++)
        if (msg->pieces[i].is_file)
            weir_slice_release(&msg->pieces[i].slice);
    free(msg->pieces);
    weir_wbuf_free(&msg->buf);
    free(msg);
}
