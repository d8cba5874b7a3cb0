/*
 * weir_segment.h: one log segment - its .log file, its sparse offset index
 * (.index) and time index (.timeindex), kept in memory for binary search and
 * appended to the files with write().  Internal to server/storage.
 *
 * A segment is reference counted: the partition log holds one reference,
 * and so does every slice handed to the network layer and every fsync job,
 * so the .log descriptor stays open until the last user lets go even after
 * retention retired (renamed and unlinked) the files.
 */
#ifndef WEIR_SEGMENT_H
#define WEIR_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir_batch.h"
#include "weir_plog.h"

#define WEIR_INDEX_ENTRY_SIZE 8
#define WEIR_TIMEINDEX_ENTRY_SIZE 12

/* Batches read back from disk: the 27 bytes that hold BaseOffset, Length,
 * Magic and LastOffsetDelta, or the whole fixed header. */
#define WEIR_SEG_PEEK_SIZE 27

typedef struct weir_index_entry_s {
    int32_t rel;    /* offset - base offset (the last offset of the indexed batch) */
    int32_t pos;    /* file position of the batch */
} weir_index_entry_t;

typedef struct weir_tindex_entry_s {
    int64_t ts;     /* largest timestamp so far in the segment */
    int32_t rel;    /* offset of the batch that first reached it, relative */
} weir_tindex_entry_t;

struct weir_segment_s {
    int refcnt;
    int64_t base_offset;
    char *path;            /* "<dir>/<20-digit base offset>", no extension */
    int fd;                /* .log, open for the segment's life */
    int index_fd;          /* .index, open only while active (else -1) */
    int tindex_fd;         /* .timeindex, open only while active (else -1) */
    int64_t size;          /* bytes of whole batches in .log */
    int64_t reserved_end;  /* .log blocks allocated past size up to here (-1: unsupported) */
    int64_t next_offset;   /* one past the last offset stored (base when empty) */
    int64_t max_ts;        /* largest batch MaxTimestamp, -1 if none */
    int64_t max_ts_offset; /* last offset of the batch that first reached max_ts */
    int64_t bytes_since_index;
    int64_t created_ms;    /* when the first batch was appended (-1: empty) */
    bool dirty;            /* appended to since the last fsync was started */
    bool retired;          /* renamed to *.deleted */
    weir_index_entry_t *idx;
    size_t idx_n, idx_cap;
    weir_tindex_entry_t *tidx;
    size_t tidx_n, tidx_cap;
};

/**
 * @brief Makes sure the blocks for the next len bytes of the active
 *        segment's .log are allocated, reserving in steps of
 *        WEIR_SEGMENT_RESERVE_STEP (never past limit, the segment size
 *        that rolls it) with fallocate(FALLOC_FL_KEEP_SIZE): the file's
 *        size stays the bytes written, so readers and recovery see no
 *        difference, while appends skip the filesystem's per-write block
 *        reservation (ext4 delayed allocation).  Best effort: a filesystem
 *        without fallocate is left alone.
 */
void weir_segment_reserve(weir_segment_t *seg, int64_t len, int64_t limit);

#define WEIR_SEGMENT_RESERVE_STEP ((int64_t)64 << 20)

/* Header fields of one batch as read back from a segment. */
typedef struct weir_seg_batch_s {
    int64_t pos;            /* file position */
    int64_t size;           /* total bytes (BatchLength + 12) */
    weir_batch_hdr_t hdr;   /* full header (only base_offset, batch_length, magic,
                             * last_offset_delta when peeked) */
} weir_seg_batch_t;

/* Creates an empty active segment (files created or truncated to empty).
 * Returns 0 or -errno. */
int weir_segment_create(const char *dir, int64_t base_offset, weir_segment_t **out);

/*
 * Loads an existing segment whose .log exists.  The in-memory indexes come
 * from the index files when they are sound (sizes, order, positions inside
 * the log) and are rebuilt from the .log otherwise.  With recover set the
 * batches after the last index entry are validated (CRC included) and the
 * log truncated at the first torn or corrupt one; without it they are only
 * walked to find the next offset (and validated if that walk trips).  active
 * keeps the index files open for appending.  index_interval is used for a
 * rebuild.  created_ms becomes the first batch's MaxTimestamp (or the file's
 * mtime).  Returns 0 or -errno / WEIR_E*; *truncated reports bytes cut from
 * the .log.
 */
int weir_segment_load(const char *dir, int64_t base_offset, bool recover, bool active,
                      int32_t index_interval, weir_segment_t **out, int64_t *truncated);

void weir_segment_ref(weir_segment_t *seg);
/* Drops a reference; the last one closes the files and frees the segment. */
void weir_segment_unref(weir_segment_t *seg);

/* Makes the segment inactive: records its final time index entry and closes
 * the index files (entries stay in memory). */
void weir_segment_seal(weir_segment_t *seg);

/* Renames the segment's files to *.deleted.  Paths of the renamed files are
 * stored into paths[0..2] (allocated, NULL when the file was absent). */
void weir_segment_retire(weir_segment_t *seg, char *paths[3]);

/*
 * Records an appended batch (already written at pos) in the in-memory state
 * and buffers any index entries for the files in ibuf/tbuf (which the caller
 * writes with weir_segment_write_index).  ts is the batch's effective max
 * timestamp, index_interval the index.interval.bytes setting.
 */
void weir_segment_note_append(weir_segment_t *seg, int64_t pos, int64_t size,
                              int64_t base_offset, int64_t last_offset, int64_t ts,
                              int32_t index_interval, uint8_t *ibuf, size_t *ilen,
                              uint8_t *tbuf, size_t *tlen);

/* Appends encoded entries to the index files of the active segment.  A
 * failed write removes the file so that the next open rebuilds it. */
void weir_segment_write_index(weir_segment_t *seg, const uint8_t *ibuf, size_t ilen,
                              const uint8_t *tbuf, size_t tlen);

/* The file position to start scanning from for offset (largest index entry
 * at or below it, else 0). */
int64_t weir_segment_index_lookup(const weir_segment_t *seg, int64_t offset);

/* The index position of the last entry whose position is <= pos limit, or
 * -1 when none is above floor. */
int64_t weir_segment_index_pos_below(const weir_segment_t *seg, int64_t floor, int64_t limit);

/* The offset from the largest time index entry whose timestamp is <= ts, or
 * -1 when there is none. */
int64_t weir_segment_tindex_lookup(const weir_segment_t *seg, int64_t ts);

/* Reads the first WEIR_SEG_PEEK_SIZE bytes of the batch at pos, or the whole
 * fixed header when full is set.  Returns 1 with b filled, 0 at the end of
 * the segment, WEIR_ECORRUPT when the header is not sound (bad length or
 * magic, past the end), -errno on an I/O error. */
int weir_segment_peek(const weir_segment_t *seg, int64_t pos, bool full, weir_seg_batch_t *b);

/* Scans the batch headers of the segment from its first byte, calling fn for
 * each.  Stops at the end or the first unsound header.  Returns 0 or a
 * negative error. */
int weir_segment_scan_headers(const weir_segment_t *seg,
                              void (*fn)(void *arg, const weir_seg_batch_t *b), void *arg);

/* ------------------------------------------------------------------------
 * The cleaner's output (weir_cleaner.c).  A cleaned segment is written as
 * "<base>.log.cleaned" with "<base>.index.cleaned" and
 * "<base>.timeindex.cleaned"; the partition log renames the files into place
 * (see weir_plog.c, "Compaction").  seg->path stays "<dir>/<base>".
 * ------------------------------------------------------------------------ */

#define WEIR_SEGMENT_CLEANED_SUFFIX ".cleaned"

/* Creates (truncating) "<dir>/<base_offset>.log.cleaned" as an inactive
 * segment with no index files open.  The caller writes batches at
 * seg->size with pwrite() and records each with weir_segment_note_append()
 * (NULL index buffers: entries are kept in memory).  Returns 0 or -errno. */
int weir_segment_create_cleaned(const char *dir, int64_t base_offset, weir_segment_t **out);

/* Completes a cleaned segment: adds the closing time index entry (as
 * weir_segment_seal does), writes both index files from memory under their
 * ".cleaned" names and fdatasyncs the .log.  Returns 0 or -errno. */
int weir_segment_finish_cleaned(weir_segment_t *seg);

#endif
