/*
 * weir_group.c: the group membership state machine (Kafka's GroupCoordinator
 * and GroupMetadata, classic protocol): groups and members, JoinGroup with
 * MEMBER_ID_REQUIRED and static membership, protocol selection, the join
 * phase (initial delay, rebalance timeout), SyncGroup, heartbeats and
 * session expiry, LeaveGroup, DeleteGroups, the per-group timer, waiter
 * completion, and the coordinator's life cycle.
 *
 * States: Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and
 * back to PreparingRebalance on any membership change; Dead while a
 * DeleteGroups is being made durable.  Deviations from Kafka, all in the
 * direction of fewer stalls: a JoinGroup whose connection closes is no
 * longer counted as joined (a new dynamic member leaves at once); a
 * superseded parked JoinGroup/SyncGroup is answered REBALANCE_IN_PROGRESS
 * instead of never; protocol support of a rejoining member is checked
 * against the other members only.
 */
#include "weir_group_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

#include "weir_common.h"
#include "weir_log.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static char *
weir_sdup(weir_str_t s)
{
    char *p;

    if (s.len < 0)
        return NULL;
    p = weir_malloc((size_t)s.len + 1);
    if (s.len)
        memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = '\0';
    return p;
}

static uint8_t *
weir_bdup(const void *p, int32_t len)
{
    uint8_t *b = weir_malloc(len > 0 ? (size_t)len : 1);

    if (len > 0)
        memcpy(b, p, (size_t)len);
    return b;
}

static bool
weir_str_has_nul(weir_str_t s)
{
    return s.len > 0 && memchr(s.ptr, '\0', (size_t)s.len) != NULL;
}

/* A random (version 4) UUID in its 36-character text form. */
static void
weir_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[16];
    int o = 0;

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        uint64_t a = (uint64_t)weir_mono_us() * UINT64_C(0x9e3779b97f4a7c15);
        uint64_t b = (uint64_t)weir_wall_ms() ^ (a >> 17) ^ (uint64_t)rand();
        memcpy(r, &a, 8);
        memcpy(r + 8, &b, 8);
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
}

/* Kafka's member ids: "<client id or group.instance.id>-<uuid>". */
static char *
weir_member_id_new(weir_str_t prefix)
{
    size_t n = prefix.len > 0 ? (size_t)prefix.len : 0;
    char *id = weir_malloc(n + 38);

    for (size_t i = 0; i < n; i++)
        id[i] = prefix.ptr[i] ? prefix.ptr[i] : '_';
    id[n] = '-';
    weir_uuid(id + n + 1);
    return id;
}

const char *
weir_group_state_name(weir_group_state_t state)
{
    switch (state) {
    case WEIR_GROUP_EMPTY:
        return "Empty";
    case WEIR_GROUP_PREPARING_REBALANCE:
        return "PreparingRebalance";
    case WEIR_GROUP_COMPLETING_REBALANCE:
        return "CompletingRebalance";
    case WEIR_GROUP_STABLE:
        return "Stable";
    case WEIR_GROUP_DEAD:
        return "Dead";
    }
    return "Dead";
}

/* ------------------------------------------------------------------ */
/* Coordinator plumbing: clock, entry brackets, waiter completion     */

uint64_t
weir__coord_now(weir_coord_t *co)
{
    uv_update_time(co->loop);
    return uv_now(co->loop);
}

void
weir__coord_enter(weir_coord_t *co)
{
    co->depth++;
}

void
weir__coord_leave(weir_coord_t *co)
{
    if (--co->depth > 0 || co->draining)
        return;
    /* The state is consistent: run due callbacks.  A callback may call back
     * into the coordinator; what that queues runs in this same loop. */
    co->draining = true;
    while (co->done_head) {
        weir_gwait_t *w = co->done_head;

        co->done_head = w->qnext;
        if (!co->done_head)
            co->done_tail = NULL;
        w->qnext = NULL;
        w->queued = false;
        w->done(w);
    }
    co->draining = false;
}

void
weir__gwait_complete(weir_gwait_t *w, weir_kerr_t err)
{
    weir_coord_t *co = w->co;

    w->err = err;
    w->parked_on = NULL;
    if (w->queued)
        return;
    w->queued = true;
    w->qnext = NULL;
    if (co->done_tail)
        co->done_tail->qnext = w;
    else
        co->done_head = w;
    co->done_tail = w;
}

void
weir_gwait_release(weir_gwait_t *w)
{
    free(w->member_id);
    free(w->leader_id);
    free(w->protocol_name);
    for (int32_t i = 0; i < w->nmembers; i++) {
        free(w->members[i].member_id);
        free(w->members[i].instance_id);
        free(w->members[i].metadata);
    }
    free(w->members);
    free(w->assignment);
    w->member_id = w->leader_id = w->protocol_name = NULL;
    w->members = NULL;
    w->nmembers = 0;
    w->assignment = NULL;
    w->assignment_len = 0;
}

/* ------------------------------------------------------------------ */
/* Groups and members                                                 */

bool
weir__group_id_ok(weir_str_t id, bool allow_empty)
{
    if (id.len < 0 || (id.len == 0 && !allow_empty))
        return false;
    return !weir_str_has_nul(id);
}

weir_group_t *
weir__group_get(weir_coord_t *co, const char *id, size_t len)
{
    return weir_gmap_get(&co->groups, id, len);
}

weir_group_t *
weir_coord_group(weir_coord_t *co, weir_str_t group_id)
{
    weir_group_t *g;

    if (group_id.len < 0)
        return NULL;
    g = weir__group_get(co, group_id.ptr, (size_t)group_id.len);
    return g && g->state != WEIR_GROUP_DEAD ? g : NULL;
}

void
weir_coord_groups_foreach(weir_coord_t *co, void (*cb)(void *arg, weir_group_t *g), void *arg)
{
    weir_gmap_iter_t it;
    weir_group_t *g;

    weir_gmap_iter_init(&it, &co->groups);
    while ((g = weir_gmap_iter_next(&it)) != NULL)
        if (g->state != WEIR_GROUP_DEAD)
            cb(arg, g);
}

static void weir_group_on_timer(uv_timer_t *t);

weir_group_t *
weir__group_create(weir_coord_t *co, const char *id, size_t len)
{
    weir_group_t *g = weir_calloc(1, sizeof(*g));

    g->co = co;
    g->id = weir_malloc(len + 1);
    memcpy(g->id, id, len);
    g->id[len] = '\0';
    g->state = WEIR_GROUP_EMPTY;
    g->empty_since_ms = weir_wall_ms();
    uv_timer_init(co->loop, &g->timer);
    g->timer.data = g;
    co->open_handles++;
    weir_gmap_put(&co->groups, g->id, len, g);
    return g;
}

weir_member_t *
weir__group_member(weir_group_t *g, weir_str_t member_id)
{
    if (member_id.len <= 0)
        return NULL;
    return weir_gmap_get(&g->members, member_id.ptr, (size_t)member_id.len);
}

static weir_member_t *
weir_group_static(weir_group_t *g, weir_str_t instance_id)
{
    if (instance_id.len < 0)
        return NULL;
    return weir_gmap_get(&g->statics, instance_id.ptr, (size_t)instance_id.len);
}

weir_kerr_t
weir__group_validate_member(weir_group_t *g, weir_str_t member_id, weir_str_t instance_id)
{
    if (instance_id.len >= 0) {
        weir_member_t *sm = weir_group_static(g, instance_id);
        if (!sm)
            return WEIR_KERR_UNKNOWN_MEMBER_ID;
        return weir_str_eq(member_id, sm->member_id) ? WEIR_KERR_NONE
                                                     : WEIR_KERR_FENCED_INSTANCE_ID;
    }
    return weir__group_member(g, member_id) ? WEIR_KERR_NONE : WEIR_KERR_UNKNOWN_MEMBER_ID;
}

static void
weir_member_free(weir_member_t *m)
{
    for (int32_t i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].metadata);
    }
    free(m->protocols);
    free(m->member_id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m->protocol_type);
    free(m->assignment);
    free(m);
}

const uint8_t *
weir_member_metadata(const weir_member_t *m, const char *name, int32_t *len)
{
    for (int32_t i = 0; name && i < m->nprotocols; i++) {
        if (strcmp(m->protocols[i].name, name) == 0) {
            *len = m->protocols[i].metadata_len;
            return m->protocols[i].metadata;
        }
    }
    *len = 0;
    return NULL;
}

/* Protocol support counts (each member counts once per name). */
typedef struct weir_pcount_s {
    char *name;
    int32_t count;
} weir_pcount_t;

static int32_t
weir_pcount_get(weir_group_t *g, const char *name, size_t len)
{
    weir_pcount_t *pc = weir_gmap_get(&g->proto_counts, name, len);
    return pc ? pc->count : 0;
}

static void
weir_pcount_member(weir_group_t *g, weir_member_t *m, int32_t delta)
{
    for (int32_t i = 0; i < m->nprotocols; i++) {
        const char *name = m->protocols[i].name;
        size_t len = strlen(name);
        weir_pcount_t *pc = weir_gmap_get(&g->proto_counts, name, len);

        if (!pc) {
            if (delta < 0)
                continue;
            pc = weir_calloc(1, sizeof(*pc));
            pc->name = weir_strdup(name);
            weir_gmap_put(&g->proto_counts, pc->name, len, pc);
        }
        pc->count += delta;
        if (pc->count <= 0) {
            weir_gmap_del(&g->proto_counts, name, len);
            free(pc->name);
            free(pc);
        }
    }
}

/* Replaces the member's protocols with a's, keeping the first occurrence
 * of a repeated name (Kafka looks protocols up by first match too). */
static void
weir_member_set_protocols(weir_member_t *m, const weir_join_args_t *a)
{
    weir_gmap_t seen = {0};
    int32_t n = 0;

    for (int32_t i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].metadata);
    }
    free(m->protocols);
    m->protocols =
        a->nprotocols > 0 ? weir_calloc((size_t)a->nprotocols, sizeof(*m->protocols)) : NULL;
    for (int32_t i = 0; i < a->nprotocols; i++) {
        weir_str_t name = a->protocol_names[i], md = a->protocol_metadata[i];
        weir_protocol_t *p;

        if (name.len < 0 || weir_str_has_nul(name))
            continue;
        if (weir_gmap_get(&seen, name.ptr, (size_t)name.len))
            continue;
        p = &m->protocols[n++];
        p->name = weir_sdup(name);
        p->metadata_len = md.len > 0 ? md.len : 0;
        p->metadata = weir_bdup(md.ptr, p->metadata_len);
        weir_gmap_put(&seen, p->name, (size_t)name.len, p);
    }
    m->nprotocols = n;
    weir_gmap_free(&seen);
}

/* Kafka's MemberMetadata.matches: the same protocols, in the same order,
 * with the same metadata (after the same de-duplication). */
static bool
weir_member_matches(const weir_member_t *m, const weir_join_args_t *a)
{
    weir_member_t tmp;
    bool same;

    memset(&tmp, 0, sizeof(tmp));
    weir_member_set_protocols(&tmp, a);
    same = tmp.nprotocols == m->nprotocols;
    for (int32_t i = 0; same && i < m->nprotocols; i++) {
        same = strcmp(tmp.protocols[i].name, m->protocols[i].name) == 0 &&
               tmp.protocols[i].metadata_len == m->protocols[i].metadata_len &&
               memcmp(tmp.protocols[i].metadata, m->protocols[i].metadata,
                      (size_t)m->protocols[i].metadata_len) == 0;
    }
    for (int32_t i = 0; i < tmp.nprotocols; i++) {
        free(tmp.protocols[i].name);
        free(tmp.protocols[i].metadata);
    }
    free(tmp.protocols);
    return same;
}

/* Whether a member offering a's protocols may be (or stay) in the group:
 * a non-empty protocol type and protocol list, the group's protocol type,
 * and at least one protocol every other member supports. */
static bool
weir_group_supports(weir_group_t *g, weir_member_t *self, const weir_join_args_t *a)
{
    int32_t others = g->nmembers - (self ? 1 : 0);

    if (a->protocol_type.len <= 0 || a->nprotocols <= 0)
        return false;
    if (g->state == WEIR_GROUP_EMPTY || others <= 0)
        return true;
    if (!g->protocol_type || !weir_str_eq(a->protocol_type, g->protocol_type))
        return false;
    for (int32_t i = 0; i < a->nprotocols; i++) {
        weir_str_t name = a->protocol_names[i];
        int32_t cnt;

        if (name.len < 0 || weir_str_has_nul(name))
            continue;
        cnt = weir_pcount_get(g, name.ptr, (size_t)name.len);
        for (int32_t j = 0; self && j < self->nprotocols; j++) {
            if (weir_str_eq(name, self->protocols[j].name)) {
                cnt--;
                break;
            }
        }
        if (cnt >= others)
            return true;
    }
    return false;
}

static void
weir_group_add_member(weir_group_t *g, weir_member_t *m)
{
    m->group = g;
    if (g->nmembers == 0) {
        free(g->protocol_type);
        g->protocol_type = weir_strdup(m->protocol_type);
    }
    m->prev = g->tail;
    m->next = NULL;
    if (g->tail)
        g->tail->next = m;
    else
        g->head = m;
    g->tail = m;
    g->nmembers++;
    weir_gmap_put(&g->members, m->member_id, strlen(m->member_id), m);
    if (!g->leader)
        g->leader = m;
    weir_pcount_member(g, m, 1);
    if (m->instance_id)
        weir_gmap_put(&g->statics, m->instance_id, strlen(m->instance_id), m);
}

/* Unlinks and frees a member whose waiters were already answered. */
static void
weir_group_drop_member(weir_group_t *g, weir_member_t *m)
{
    if (m->join_wait) {
        m->join_wait->parked_on = NULL;
        g->nawaiting_join--;
    }
    if (m->sync_wait)
        m->sync_wait->parked_on = NULL;
    if (m->prev)
        m->prev->next = m->next;
    else
        g->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        g->tail = m->prev;
    g->nmembers--;
    weir_gmap_del(&g->members, m->member_id, strlen(m->member_id));
    weir_pcount_member(g, m, -1);
    if (m->instance_id && weir_gmap_get(&g->statics, m->instance_id, strlen(m->instance_id)) == m)
        weir_gmap_del(&g->statics, m->instance_id, strlen(m->instance_id));
    if (g->leader == m)
        g->leader = g->head;
    weir_member_free(m);
}

static void
weir_group_touch(weir_group_t *g, weir_member_t *m)
{
    m->last_heartbeat = weir__coord_now(g->co);
}

static void
weir_group_transition(weir_group_t *g, weir_group_state_t to)
{
    weir_group_state_t from = g->state;

    g->state = to;
    if (to == WEIR_GROUP_EMPTY && from != WEIR_GROUP_EMPTY)
        g->empty_since_ms = weir_wall_ms();
    if (from != to)
        WEIR_LOG(WEIR_LOG_DEBUG, "group_state", "group=%s from=%s to=%s generation=%d", g->id,
                 weir_group_state_name(from), weir_group_state_name(to), g->generation);
    weir__group_meta_update(g, from);
}

/* ------------------------------------------------------------------ */
/* Join results                                                       */

static void
weir_join_error(weir_gwait_t *w, const char *member_id, weir_kerr_t err)
{
    weir_gwait_release(w);
    w->generation_id = -1;
    w->member_id = weir_strdup(member_id ? member_id : "");
    w->leader_id = weir_strdup("");
    w->protocol_name = NULL;
    weir__gwait_complete(w, err);
}

static void
weir_join_error_s(weir_gwait_t *w, weir_str_t member_id, weir_kerr_t err)
{
    char *id = weir_sdup(member_id);

    weir_join_error(w, id, err);
    free(id);
}

/* Fills and completes a successful JoinGroup result for m.  leader_id
 * overrides the reported leader (static member replacement). */
static void
weir_join_ok(weir_gwait_t *w, weir_group_t *g, weir_member_t *m, bool with_members,
             const char *leader_id)
{
    weir_gwait_release(w);
    w->generation_id = g->generation;
    w->member_id = weir_strdup(m->member_id);
    w->leader_id = weir_strdup(leader_id ? leader_id : g->leader ? g->leader->member_id : "");
    w->protocol_name = g->protocol_name ? weir_strdup(g->protocol_name) : NULL;
    if (with_members && g->nmembers > 0) {
        int32_t i = 0;

        w->members = weir_calloc((size_t)g->nmembers, sizeof(*w->members));
        for (weir_member_t *mm = g->head; mm; mm = mm->next, i++) {
            const uint8_t *md;
            int32_t len;

            md = weir_member_metadata(mm, g->protocol_name, &len);
            w->members[i].member_id = weir_strdup(mm->member_id);
            w->members[i].instance_id = mm->instance_id ? weir_strdup(mm->instance_id) : NULL;
            w->members[i].metadata = weir_bdup(md, len);
            w->members[i].metadata_len = len;
        }
        w->nmembers = i;
    }
    weir__gwait_complete(w, WEIR_KERR_NONE);
}

/* Parks w as m's JoinGroup.  An earlier parked JoinGroup of the same member
 * (a retry on another connection) is answered REBALANCE_IN_PROGRESS. */
static void
weir_member_park_join(weir_group_t *g, weir_member_t *m, weir_gwait_t *w)
{
    if (m->join_wait) {
        weir_gwait_t *old = m->join_wait;
        m->join_wait = NULL;
        g->nawaiting_join--;
        weir_join_error(old, m->member_id, WEIR_KERR_REBALANCE_IN_PROGRESS);
    }
    m->join_wait = w;
    w->parked_on = m;
    g->nawaiting_join++;
}

/* ------------------------------------------------------------------ */
/* Rebalance                                                          */

static int32_t
weir_group_rebalance_timeout(const weir_group_t *g)
{
    int32_t t = 0;

    for (const weir_member_t *m = g->head; m; m = m->next)
        t = WEIR_MAX(t, m->rebalance_timeout_ms);
    return t;
}

static bool
weir_group_all_joined(const weir_group_t *g)
{
    return g->nawaiting_join == g->nmembers && g->pending.count == 0;
}

/* Every member's assignment is dropped; parked SyncGroups get err. */
static void
weir_group_reset_assignments(weir_group_t *g, weir_kerr_t err)
{
    for (weir_member_t *m = g->head; m; m = m->next) {
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        if (m->sync_wait) {
            weir_gwait_t *w = m->sync_wait;
            m->sync_wait = NULL;
            weir_gwait_release(w);
            weir__gwait_complete(w, err);
            weir_group_touch(g, m);
        }
    }
}

static void weir_group_complete_join(weir_group_t *g);

static void
weir_group_maybe_complete_join(weir_group_t *g)
{
    if (g->state == WEIR_GROUP_PREPARING_REBALANCE && !g->join_initial && weir_group_all_joined(g))
        weir_group_complete_join(g);
}

static void
weir_group_prepare_rebalance(weir_group_t *g, const char *reason)
{
    uint64_t now = weir__coord_now(g->co);
    int32_t rto = weir_group_rebalance_timeout(g);

    if (g->state == WEIR_GROUP_COMPLETING_REBALANCE)
        weir_group_reset_assignments(g, WEIR_KERR_REBALANCE_IN_PROGRESS);
    if (g->state == WEIR_GROUP_EMPTY) {
        /* Kafka's InitialDelayedJoin: wait for more members first. */
        g->join_initial = true;
        g->new_member_added = false;
        g->join_delay_ms = g->co->conf->group_initial_rebalance_delay_ms;
        g->join_remaining_ms = WEIR_MAX((int64_t)rto - g->join_delay_ms, 0);
        g->join_deadline = now + (uint64_t)g->join_delay_ms;
    } else {
        g->join_initial = false;
        g->join_deadline = now + (uint64_t)rto;
    }
    WEIR_LOG(WEIR_LOG_INFO, "group_rebalance",
             "group=%s from=%s generation=%d members=%d "
             "reason=\"%s\"",
             g->id, weir_group_state_name(g->state), g->generation, g->nmembers, reason);
    weir_group_transition(g, WEIR_GROUP_PREPARING_REBALANCE);
    weir_group_maybe_complete_join(g);
}

static void
weir_group_maybe_prepare_rebalance(weir_group_t *g, const char *reason)
{
    if (g->state == WEIR_GROUP_STABLE || g->state == WEIR_GROUP_COMPLETING_REBALANCE ||
        g->state == WEIR_GROUP_EMPTY)
        weir_group_prepare_rebalance(g, reason);
}

/* Each member votes for its most preferred protocol among those every
 * member supports; most votes wins, ties go to the earliest vote. */
static char *
weir_group_select_protocol(weir_group_t *g)
{
    const char *best = NULL;
    int32_t best_votes = 0;
    weir_gmap_t votes = {0};
    int32_t *tally = weir_calloc((size_t)g->nmembers + 1, sizeof(*tally));
    const char **names = weir_calloc((size_t)g->nmembers + 1, sizeof(*names));
    int32_t nnames = 0;

    for (weir_member_t *m = g->head; m; m = m->next) {
        for (int32_t i = 0; i < m->nprotocols; i++) {
            const char *name = m->protocols[i].name;
            size_t len = strlen(name);
            intptr_t slot;

            if (weir_pcount_get(g, name, len) != g->nmembers)
                continue;
            slot = (intptr_t)weir_gmap_get(&votes, name, len);
            if (!slot) {
                names[nnames] = name;
                slot = ++nnames;
                weir_gmap_put(&votes, name, len, (void *)slot);
            }
            tally[slot - 1]++;
            break;
        }
    }
    for (int32_t i = 0; i < nnames; i++) {
        if (tally[i] > best_votes) {
            best_votes = tally[i];
            best = names[i];
        }
    }
    weir_gmap_free(&votes);
    free(tally);
    free(names);
    return best ? weir_strdup(best) : NULL;
}

/* Parses a ConsumerProtocolSubscription (int16 version, array of topic
 * strings, ...) and adds its topics to g->subscribed. */
static bool
weir_group_add_subscription(weir_group_t *g, const uint8_t *md, int32_t len)
{
    weir_rbuf_t rd;
    int32_t n;

    weir_rbuf_init(&rd, md, (size_t)len);
    if (weir_rd_i16(&rd) < 0)
        return false;
    n = weir_rd_array(&rd, 2);
    for (int32_t i = 0; i < n && !rd.err; i++) {
        weir_str_t t = weir_rd_str(&rd);
        char *name;

        if (t.len < 0 || weir_str_has_nul(t))
            return false;
        if (rd.err || weir_gmap_get(&g->subscribed, t.ptr, (size_t)t.len))
            continue;
        name = weir_sdup(t);
        weir_gmap_put(&g->subscribed, name, (size_t)t.len, name);
    }
    return !rd.err && n >= 0;
}

static void
weir_group_clear_subscribed(weir_group_t *g)
{
    weir_gmap_iter_t it;
    char *name;

    weir_gmap_iter_init(&it, &g->subscribed);
    while ((name = weir_gmap_iter_next(&it)) != NULL)
        free(name);
    weir_gmap_free(&g->subscribed);
    g->subscribed_known = false;
}

/* Kafka's computeSubscribedTopics: known only for the consumer protocol
 * when every member's subscription parses. */
static void
weir_group_compute_subscribed(weir_group_t *g)
{
    weir_group_clear_subscribed(g);
    if (!g->protocol_type || strcmp(g->protocol_type, "consumer") != 0 || !g->protocol_name)
        return;
    g->subscribed_known = true;
    for (weir_member_t *m = g->head; m && g->subscribed_known; m = m->next) {
        int32_t len;
        const uint8_t *md = weir_member_metadata(m, g->protocol_name, &len);

        if (!md || !weir_group_add_subscription(g, md, len))
            g->subscribed_known = false;
    }
    if (!g->subscribed_known)
        weir_group_clear_subscribed(g);
}

/* The current leader has not rejoined: any member that has becomes leader.
 * False when nobody has rejoined. */
static bool
weir_group_elect_joined_leader(weir_group_t *g)
{
    if (!g->leader)
        return false;
    if (g->leader->join_wait)
        return true;
    for (weir_member_t *m = g->head; m; m = m->next) {
        if (m->join_wait) {
            g->leader = m;
            return true;
        }
    }
    return false;
}

/* Kafka's onCompleteJoin. */
static void
weir_group_complete_join(weir_group_t *g)
{
    weir_member_t *m, *next;

    /* Dynamic members that did not rejoin are out; static members stay
     * until their session expires. */
    for (m = g->head; m; m = next) {
        next = m->next;
        if (!m->join_wait && !m->instance_id) {
            WEIR_LOG(WEIR_LOG_INFO, "group_member_removed",
                     "group=%s member=%s "
                     "reason=\"did not rejoin in time\"",
                     g->id, m->member_id);
            if (m->sync_wait) {
                weir_gwait_t *w = m->sync_wait;
                m->sync_wait = NULL;
                weir__gwait_complete(w, WEIR_KERR_UNKNOWN_MEMBER_ID);
            }
            weir_group_drop_member(g, m);
        }
    }
    if (!weir_group_elect_joined_leader(g) && g->nmembers > 0) {
        /* Only static members remain and none rejoined: wait another round
         * (their sessions will expire if they are gone). */
        g->join_initial = false;
        g->join_deadline = weir__coord_now(g->co) + (uint64_t)weir_group_rebalance_timeout(g);
        return;
    }
    g->generation++;
    free(g->protocol_name);
    g->protocol_name = NULL;
    g->join_deadline = 0;
    if (g->nmembers == 0) {
        weir_group_clear_subscribed(g);
        weir_group_transition(g, WEIR_GROUP_EMPTY);
        WEIR_LOG(WEIR_LOG_INFO, "group_empty", "group=%s generation=%d", g->id, g->generation);
        return;
    }
    g->protocol_name = weir_group_select_protocol(g);
    if (!g->protocol_name) {
        /* Cannot happen while every join checks protocol support; answer
         * everyone and start over rather than elect nothing. */
        for (m = g->head; m; m = next) {
            next = m->next;
            if (m->join_wait) {
                weir_gwait_t *w = m->join_wait;
                m->join_wait = NULL;
                g->nawaiting_join--;
                weir_join_error(w, m->member_id, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
            }
            weir_group_drop_member(g, m);
        }
        weir_group_clear_subscribed(g);
        weir_group_transition(g, WEIR_GROUP_EMPTY);
        return;
    }
    weir_group_compute_subscribed(g);
    weir_group_transition(g, WEIR_GROUP_COMPLETING_REBALANCE);
    WEIR_LOG(WEIR_LOG_INFO, "group_joined",
             "group=%s generation=%d protocol=%s members=%d "
             "leader=%s",
             g->id, g->generation, g->protocol_name, g->nmembers, g->leader->member_id);
    for (m = g->head; m; m = m->next) {
        if (m->join_wait) {
            weir_gwait_t *w = m->join_wait;
            m->join_wait = NULL;
            g->nawaiting_join--;
            weir_join_ok(w, g, m, m == g->leader, NULL);
        }
        weir_group_touch(g, m);
        m->is_new = false;
    }
}

/* The join phase's deadline passed (Kafka's DelayedJoin / InitialDelayedJoin
 * expiring). */
static void
weir_group_join_deadline(weir_group_t *g)
{
    if (g->join_initial && g->new_member_added && g->join_remaining_ms != 0) {
        int32_t delay = (int32_t)WEIR_MIN((int64_t)g->co->conf->group_initial_rebalance_delay_ms,
                                          g->join_remaining_ms);
        g->join_remaining_ms = WEIR_MAX(g->join_remaining_ms - g->join_delay_ms, 0);
        g->join_delay_ms = delay;
        g->new_member_added = false;
        g->join_deadline = weir__coord_now(g->co) + (uint64_t)delay;
        return;
    }
    g->join_initial = false;
    weir_group_complete_join(g);
}

/* Kafka's removeMemberAndUpdateGroup. */
static void
weir_group_remove_member(weir_group_t *g, weir_member_t *m, const char *reason)
{
    WEIR_LOG(WEIR_LOG_INFO, "group_member_removed",
             "group=%s member=%s instance=%s "
             "reason=\"%s\"",
             g->id, m->member_id, m->instance_id ? m->instance_id : "", reason);
    if (m->join_wait) {
        weir_gwait_t *w = m->join_wait;
        m->join_wait = NULL;
        g->nawaiting_join--;
        weir_join_error(w, "", WEIR_KERR_UNKNOWN_MEMBER_ID);
    }
    if (m->sync_wait) {
        weir_gwait_t *w = m->sync_wait;
        m->sync_wait = NULL;
        weir_gwait_release(w);
        weir__gwait_complete(w, WEIR_KERR_UNKNOWN_MEMBER_ID);
    }
    weir_group_drop_member(g, m);
    switch (g->state) {
    case WEIR_GROUP_STABLE:
    case WEIR_GROUP_COMPLETING_REBALANCE:
        weir_group_maybe_prepare_rebalance(g, reason);
        break;
    case WEIR_GROUP_PREPARING_REBALANCE:
        weir_group_maybe_complete_join(g);
        break;
    default:
        break;
    }
}

typedef struct weir_pending_s {
    char *member_id;
    uint64_t deadline;
} weir_pending_t;

static void
weir_group_remove_pending(weir_group_t *g, const char *id, size_t len)
{
    weir_pending_t *p = weir_gmap_del(&g->pending, id, len);

    if (p) {
        free(p->member_id);
        free(p);
    }
}

/* ------------------------------------------------------------------ */
/* Timer                                                              */

/* When m's session ends, or 0 while it is kept alive (a parked JoinGroup of
 * a known member, or a parked SyncGroup). */
static uint64_t
weir_member_deadline(const weir_member_t *m)
{
    if (m->sync_wait || (m->join_wait && !m->is_new))
        return 0;
    if (m->is_new && m->join_wait)
        return m->last_heartbeat + WEIR_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS;
    return m->last_heartbeat + (uint64_t)WEIR_MAX(m->session_timeout_ms, 0);
}

static void
weir_group_rearm(weir_group_t *g)
{
    uint64_t due = UINT64_MAX, now;
    weir_gmap_iter_t it;
    weir_pending_t *p;

    if (g->co->stopping)
        return;
    weir_gmap_iter_init(&it, &g->pending);
    while ((p = weir_gmap_iter_next(&it)) != NULL)
        due = WEIR_MIN(due, p->deadline);
    for (weir_member_t *m = g->head; m; m = m->next) {
        uint64_t d = weir_member_deadline(m);
        if (d)
            due = WEIR_MIN(due, d);
    }
    if (g->state == WEIR_GROUP_PREPARING_REBALANCE && g->join_deadline)
        due = WEIR_MIN(due, g->join_deadline);
    if (due == UINT64_MAX) {
        if (g->timer_due) {
            uv_timer_stop(&g->timer);
            g->timer_due = 0;
        }
        return;
    }
    if (g->timer_due == due)
        return;
    now = weir__coord_now(g->co);
    uv_timer_start(&g->timer, weir_group_on_timer, due > now ? due - now : 0, 0);
    g->timer_due = due;
}

/* Brings the timer forward to due if it is later (never delays it). */
static void
weir_group_arm_by(weir_group_t *g, uint64_t due)
{
    uint64_t now;

    if (g->co->stopping || (g->timer_due && g->timer_due <= due))
        return;
    now = weir__coord_now(g->co);
    uv_timer_start(&g->timer, weir_group_on_timer, due > now ? due - now : 0, 0);
    g->timer_due = due;
}

static void
weir_group_tick(weir_group_t *g)
{
    uint64_t now = weir__coord_now(g->co);
    weir_gmap_iter_t it;
    weir_pending_t *p;
    bool removed = false;

    /* Pending members (MEMBER_ID_REQUIRED) that never came back. */
    weir_gmap_iter_init(&it, &g->pending);
    while ((p = weir_gmap_iter_next(&it)) != NULL) {
        if (p->deadline > now)
            continue;
        WEIR_LOG(WEIR_LOG_INFO, "group_pending_member_expired", "group=%s member=%s", g->id,
                 p->member_id);
        weir_group_remove_pending(g, p->member_id, strlen(p->member_id));
        removed = true;
    }
    if (removed)
        weir_group_maybe_complete_join(g);
    /* Sessions.  Removing a member can end the join phase, which removes
     * others: look again from the start after each removal. */
    for (;;) {
        weir_member_t *m;
        for (m = g->head; m; m = m->next) {
            uint64_t d = weir_member_deadline(m);
            if (d && d <= now)
                break;
        }
        if (!m)
            break;
        weir_group_remove_member(g, m, "session timeout expired");
    }
    if (g->state == WEIR_GROUP_PREPARING_REBALANCE && g->join_deadline && g->join_deadline <= now)
        weir_group_join_deadline(g);
    weir_group_rearm(g);
}

static void
weir_group_on_timer(uv_timer_t *t)
{
    weir_group_t *g = t->data;
    weir_coord_t *co = g->co;

    g->timer_due = 0;
    weir__coord_enter(co);
    weir_group_tick(g);
    weir__coord_leave(co);
}

static void
weir_group_free(weir_group_t *g)
{
    weir_member_t *m, *next;
    weir_gmap_iter_t it;
    void *v;

    for (m = g->head; m; m = next) {
        next = m->next;
        weir_member_free(m);
    }
    weir_gmap_free(&g->members);
    weir_gmap_free(&g->statics);
    weir_gmap_iter_init(&it, &g->pending);
    while ((v = weir_gmap_iter_next(&it)) != NULL) {
        weir_pending_t *p = v;
        free(p->member_id);
        free(p);
    }
    weir_gmap_free(&g->pending);
    weir_gmap_iter_init(&it, &g->proto_counts);
    while ((v = weir_gmap_iter_next(&it)) != NULL) {
        weir_pcount_t *pc = v;
        free(pc->name);
        free(pc);
    }
    weir_gmap_free(&g->proto_counts);
    weir_group_clear_subscribed(g);
    weir__group_offsets_free(g);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->id);
    free(g);
}

static void
weir_group_on_closed(uv_handle_t *h)
{
    weir_group_t *g = h->data;
    weir_coord_t *co = g->co;

    weir_group_free(g);
    co->open_handles--;
    weir__coord_maybe_free(co);
}

void
weir__group_forget(weir_group_t *g)
{
    weir_coord_t *co = g->co;

    weir_gmap_del(&co->groups, g->id, strlen(g->id));
    uv_timer_stop(&g->timer);
    g->timer_due = 0;
    uv_close((uv_handle_t *)&g->timer, weir_group_on_closed);
}

bool
weir__group_forgettable(const weir_group_t *g)
{
    return g->state == WEIR_GROUP_EMPTY && g->nmembers == 0 && g->pending.count == 0 &&
           g->offsets.count == 0 && g->pending_ops == 0;
}

/* ------------------------------------------------------------------ */
/* JoinGroup                                                          */

static weir_member_t *
weir_member_new(const weir_join_args_t *a, char *member_id)
{
    weir_member_t *m = weir_calloc(1, sizeof(*m));

    m->member_id = member_id;
    m->instance_id = weir_sdup(a->instance_id);
    m->client_id = a->client_id.len >= 0 ? weir_sdup(a->client_id) : weir_strdup("");
    m->client_host = weir_strdup(a->client_host ? a->client_host : "");
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms = a->rebalance_timeout_ms;
    m->protocol_type = weir_sdup(a->protocol_type);
    weir_member_set_protocols(m, a);
    m->is_new = true;
    return m;
}

/* Kafka's updateMember: new protocols and timeouts, and w parked. */
static void
weir_group_update_member(weir_group_t *g, weir_member_t *m, const weir_join_args_t *a,
                         weir_gwait_t *w)
{
    weir_pcount_member(g, m, -1);
    weir_member_set_protocols(m, a);
    weir_pcount_member(g, m, 1);
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms = a->rebalance_timeout_ms;
    weir_member_park_join(g, m, w);
}

static void
weir_group_add_member_and_rebalance(weir_group_t *g, const weir_join_args_t *a, char *member_id,
                                    weir_gwait_t *w)
{
    weir_member_t *m = weir_member_new(a, member_id);

    if (g->state == WEIR_GROUP_PREPARING_REBALANCE && g->generation == 0)
        g->new_member_added = true;
    weir_group_add_member(g, m);
    weir_member_park_join(g, m, w);
    weir_group_touch(g, m);
    if (!m->instance_id)
        weir_group_remove_pending(g, m->member_id, strlen(m->member_id));
    WEIR_LOG(WEIR_LOG_DEBUG, "group_member_added", "group=%s member=%s instance=%s", g->id,
             m->member_id, m->instance_id ? m->instance_id : "");
    weir_group_maybe_prepare_rebalance(g, "new member joined");
}

/* A known group.instance.id joins with an unknown member id: the new id
 * replaces the old one, which is fenced. */
static void
weir_group_replace_static(weir_group_t *g, weir_member_t *m, char *new_id,
                          const weir_join_args_t *a, weir_gwait_t *w)
{
    char *old_leader = g->leader ? weir_strdup(g->leader->member_id) : weir_strdup("");
    bool same = weir_member_matches(m, a);

    WEIR_LOG(WEIR_LOG_INFO, "group_static_member_replaced", "group=%s instance=%s old=%s new=%s",
             g->id, m->instance_id, m->member_id, new_id);
    if (m->join_wait) {
        weir_gwait_t *old = m->join_wait;
        m->join_wait = NULL;
        g->nawaiting_join--;
        weir_join_error(old, m->member_id, WEIR_KERR_FENCED_INSTANCE_ID);
    }
    if (m->sync_wait) {
        weir_gwait_t *old = m->sync_wait;
        m->sync_wait = NULL;
        weir_gwait_release(old);
        weir__gwait_complete(old, WEIR_KERR_FENCED_INSTANCE_ID);
    }
    weir_gmap_del(&g->members, m->member_id, strlen(m->member_id));
    free(m->member_id);
    m->member_id = new_id;
    weir_gmap_put(&g->members, m->member_id, strlen(m->member_id), m);
    free(m->client_id);
    m->client_id = a->client_id.len >= 0 ? weir_sdup(a->client_id) : weir_strdup("");
    free(m->client_host);
    m->client_host = weir_strdup(a->client_host ? a->client_host : "");
    weir_group_touch(g, m);

    if (g->state == WEIR_GROUP_STABLE && same) {
        /* Nothing that matters to the assignment changed: no rebalance.  The
         * old leader id is reported so that a replaced leader does not
         * compute an assignment a stable group would not hand out. */
        m->session_timeout_ms = a->session_timeout_ms;
        m->rebalance_timeout_ms = a->rebalance_timeout_ms;
        weir_join_ok(w, g, m, false, old_leader);
    } else {
        weir_group_update_member(g, m, a, w);
        if (g->state == WEIR_GROUP_STABLE || g->state == WEIR_GROUP_COMPLETING_REBALANCE)
            weir_group_prepare_rebalance(g, "static member rejoined with new metadata");
    }
    free(old_leader);
}

static void
weir_group_join_unknown(weir_group_t *g, const weir_join_args_t *a, weir_gwait_t *w)
{
    weir_member_t *sm;
    char *new_id;

    if (g->state == WEIR_GROUP_DEAD) {
        weir_join_error(w, "", WEIR_KERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (!weir_group_supports(g, NULL, a)) {
        weir_join_error(w, "", WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    sm = weir_group_static(g, a->instance_id);
    new_id = weir_member_id_new(a->instance_id.len >= 0 ? a->instance_id : a->client_id);
    if (sm) {
        weir_group_replace_static(g, sm, new_id, a, w);
    } else if (a->require_known_member_id && a->instance_id.len < 0) {
        weir_pending_t *p = weir_calloc(1, sizeof(*p));

        p->member_id = new_id;
        p->deadline = weir__coord_now(g->co) + (uint64_t)WEIR_MAX(a->session_timeout_ms, 0);
        weir_gmap_put(&g->pending, p->member_id, strlen(p->member_id), p);
        weir_join_error(w, new_id, WEIR_KERR_MEMBER_ID_REQUIRED);
        /* Only a new, later deadline: no need to look at the others. */
        weir_group_arm_by(g, p->deadline);
        g->skip_rearm = true;
    } else {
        weir_group_add_member_and_rebalance(g, a, new_id, w);
    }
}

static void
weir_group_join_known(weir_group_t *g, const weir_join_args_t *a, weir_gwait_t *w)
{
    weir_member_t *m;
    weir_kerr_t err;

    if (g->state == WEIR_GROUP_DEAD) {
        weir_join_error_s(w, a->member_id, WEIR_KERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    m = weir__group_member(g, a->member_id);
    if (!weir_group_supports(g, m, a)) {
        weir_join_error_s(w, a->member_id, WEIR_KERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    if (weir_gmap_get(&g->pending, a->member_id.ptr, (size_t)a->member_id.len)) {
        /* Pending members are dynamic by construction. */
        weir_group_remove_pending(g, a->member_id.ptr, (size_t)a->member_id.len);
        if (a->instance_id.len >= 0) {
            weir_join_error_s(w, a->member_id, WEIR_KERR_UNKNOWN_MEMBER_ID);
            weir_group_maybe_complete_join(g);
            return;
        }
        weir_group_add_member_and_rebalance(g, a, weir_sdup(a->member_id), w);
        return;
    }
    err = weir__group_validate_member(g, a->member_id, a->instance_id);
    if (err == WEIR_KERR_NONE && !m)
        err = WEIR_KERR_UNKNOWN_MEMBER_ID;
    if (err) {
        weir_join_error_s(w, a->member_id, err);
        return;
    }
    switch (g->state) {
    case WEIR_GROUP_PREPARING_REBALANCE:
        weir_group_update_member(g, m, a, w);
        break;
    case WEIR_GROUP_COMPLETING_REBALANCE:
        if (weir_member_matches(m, a)) {
            /* A retry of a JoinGroup whose answer was lost: the current
             * generation again. */
            weir_join_ok(w, g, m, m == g->leader, NULL);
        } else {
            weir_group_update_member(g, m, a, w);
            weir_group_prepare_rebalance(g, "member rejoined with new metadata");
        }
        break;
    case WEIR_GROUP_STABLE:
        if (m == g->leader || !weir_member_matches(m, a)) {
            /* The leader may rejoin to have the assignment recomputed (for
             * example when topic metadata changed). */
            weir_group_update_member(g, m, a, w);
            weir_group_prepare_rebalance(g, m == g->leader ? "leader rejoined"
                                                           : "member rejoined with new metadata");
        } else {
            weir_join_ok(w, g, m, false, NULL);
        }
        break;
    default:
        weir_join_error_s(w, a->member_id, WEIR_KERR_UNKNOWN_MEMBER_ID);
        break;
    }
}

void
weir_coord_join(weir_coord_t *co, const weir_join_args_t *a, weir_gwait_t *w)
{
    const weir_conf_t *conf = co->conf;
    bool unknown = a->member_id.len <= 0;
    weir_group_t *g;

    weir__coord_enter(co);
    w->co = co;
    w->parked_on = NULL;
    if (!weir__group_id_ok(a->group_id, false)) {
        weir_join_error_s(w, a->member_id, WEIR_KERR_INVALID_GROUP_ID);
    } else if (co->stopping) {
        weir_join_error_s(w, a->member_id, WEIR_KERR_COORDINATOR_NOT_AVAILABLE);
    } else if (a->instance_id.len >= 0 &&
               (a->instance_id.len == 0 || weir_str_has_nul(a->instance_id))) {
        weir_join_error_s(w, a->member_id, WEIR_KERR_INVALID_REQUEST);
    } else if (a->session_timeout_ms < conf->group_min_session_timeout_ms ||
               a->session_timeout_ms > conf->group_max_session_timeout_ms) {
        weir_join_error_s(w, a->member_id, WEIR_KERR_INVALID_SESSION_TIMEOUT);
    } else {
        g = weir__group_get(co, a->group_id.ptr, (size_t)a->group_id.len);
        if (!g && !unknown) {
            weir_join_error_s(w, a->member_id, WEIR_KERR_UNKNOWN_MEMBER_ID);
        } else {
            if (!g)
                g = weir__group_create(co, a->group_id.ptr, (size_t)a->group_id.len);
            if (unknown && !weir_group_static(g, a->instance_id) &&
                (int64_t)g->nmembers + (int64_t)g->pending.count >= conf->group_max_size) {
                weir_join_error(w, "", WEIR_KERR_GROUP_MAX_SIZE_REACHED);
            } else if (unknown) {
                weir_group_join_unknown(g, a, w);
            } else {
                weir_group_join_known(g, a, w);
            }
            weir_group_maybe_complete_join(g);
            if (!g->skip_rearm)
                weir_group_rearm(g);
            g->skip_rearm = false;
        }
    }
    weir__coord_leave(co);
}

/* ------------------------------------------------------------------ */
/* SyncGroup, Heartbeat, LeaveGroup                                   */

static void
weir_sync_error(weir_gwait_t *w, weir_kerr_t err)
{
    weir_gwait_release(w);
    weir__gwait_complete(w, err);
}

void
weir_coord_sync(weir_coord_t *co, weir_str_t group_id, int32_t generation, weir_str_t member_id,
                weir_str_t instance_id, const weir_str_t *member_ids, const weir_str_t *assignments,
                int32_t n, weir_gwait_t *w)
{
    weir_group_t *g = NULL;
    weir_member_t *m;
    weir_kerr_t err = WEIR_KERR_NONE;

    weir__coord_enter(co);
    w->co = co;
    w->parked_on = NULL;
    if (!weir__group_id_ok(group_id, false))
        err = WEIR_KERR_INVALID_GROUP_ID;
    else if (co->stopping)
        err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    else if (!(g = weir__group_get(co, group_id.ptr, (size_t)group_id.len)))
        err = WEIR_KERR_UNKNOWN_MEMBER_ID;
    else if (g->state == WEIR_GROUP_DEAD)
        err = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    else if ((err = weir__group_validate_member(g, member_id, instance_id)) != WEIR_KERR_NONE)
        ;
    else if (generation != g->generation)
        err = WEIR_KERR_ILLEGAL_GENERATION;
    else if (g->state == WEIR_GROUP_EMPTY)
        err = WEIR_KERR_UNKNOWN_MEMBER_ID;
    else if (g->state == WEIR_GROUP_PREPARING_REBALANCE)
        err = WEIR_KERR_REBALANCE_IN_PROGRESS;
    if (err) {
        weir_sync_error(w, err);
        weir__coord_leave(co);
        return;
    }
    m = weir__group_member(g, member_id);
    if (g->state == WEIR_GROUP_STABLE) {
        weir_gwait_release(w);
        w->assignment_len = m->assignment ? m->assignment_len : 0;
        w->assignment = weir_bdup(m->assignment, w->assignment_len);
        weir_group_touch(g, m);
        weir__gwait_complete(w, WEIR_KERR_NONE);
        weir__coord_leave(co);
        return;
    }
    /* CompletingRebalance: wait for the leader's assignment. */
    if (m->sync_wait) {
        weir_gwait_t *old = m->sync_wait;
        m->sync_wait = NULL;
        weir_sync_error(old, WEIR_KERR_REBALANCE_IN_PROGRESS);
    }
    weir_gwait_release(w);
    m->sync_wait = w;
    w->parked_on = m;
    if (m == g->leader) {
        weir_gmap_t idx = {0};

        /* The last entry of a member wins; members the leader left out get
         * an empty assignment. */
        for (int32_t i = 0; i < n; i++)
            if (member_ids[i].len > 0)
                weir_gmap_put(&idx, member_ids[i].ptr, (size_t)member_ids[i].len,
                              (void *)&assignments[i]);
        WEIR_LOG(WEIR_LOG_INFO, "group_assignment",
                 "group=%s generation=%d assignments=%d "
                 "members=%d",
                 g->id, g->generation, n, g->nmembers);
        for (weir_member_t *mm = g->head; mm; mm = mm->next) {
            const weir_str_t *as = weir_gmap_get(&idx, mm->member_id, strlen(mm->member_id));

            free(mm->assignment);
            mm->assignment_len = as && as->len > 0 ? as->len : 0;
            mm->assignment = weir_bdup(as ? as->ptr : NULL, mm->assignment_len);
        }
        weir_gmap_free(&idx);
        weir_group_transition(g, WEIR_GROUP_STABLE);
        for (weir_member_t *mm = g->head; mm; mm = mm->next) {
            if (mm->sync_wait) {
                weir_gwait_t *sw = mm->sync_wait;
                mm->sync_wait = NULL;
                sw->assignment_len = mm->assignment_len;
                sw->assignment = weir_bdup(mm->assignment, mm->assignment_len);
                weir__gwait_complete(sw, WEIR_KERR_NONE);
                weir_group_touch(g, mm);
            }
        }
    }
    weir_group_rearm(g);
    weir__coord_leave(co);
}

weir_kerr_t
weir_coord_heartbeat(weir_coord_t *co, weir_str_t group_id, int32_t generation,
                     weir_str_t member_id, weir_str_t instance_id)
{
    weir_group_t *g;
    weir_kerr_t err;

    if (!weir__group_id_ok(group_id, false))
        return WEIR_KERR_INVALID_GROUP_ID;
    if (co->stopping)
        return WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    g = weir__group_get(co, group_id.ptr, (size_t)group_id.len);
    if (!g)
        return WEIR_KERR_UNKNOWN_MEMBER_ID;
    if (g->state == WEIR_GROUP_DEAD)
        return WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    err = weir__group_validate_member(g, member_id, instance_id);
    if (err)
        return err;
    if (generation != g->generation)
        return WEIR_KERR_ILLEGAL_GENERATION;
    switch (g->state) {
    case WEIR_GROUP_EMPTY:
        return WEIR_KERR_UNKNOWN_MEMBER_ID;
    case WEIR_GROUP_PREPARING_REBALANCE:
        /* A heartbeat only pushes the member's deadline later: the group
         * timer, if it fires early, re-reads the deadlines. */
        weir_group_touch(g, weir__group_member(g, member_id));
        return WEIR_KERR_REBALANCE_IN_PROGRESS;
    case WEIR_GROUP_COMPLETING_REBALANCE:
    case WEIR_GROUP_STABLE:
        weir_group_touch(g, weir__group_member(g, member_id));
        return WEIR_KERR_NONE;
    default:
        return WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    }
}

weir_kerr_t
weir_coord_leave(weir_coord_t *co, weir_str_t group_id, weir_leave_member_t *members, int32_t n)
{
    weir_group_t *g;

    if (!weir__group_id_ok(group_id, false))
        return WEIR_KERR_INVALID_GROUP_ID;
    if (co->stopping)
        return WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    g = weir__group_get(co, group_id.ptr, (size_t)group_id.len);
    if (!g) {
        for (int32_t i = 0; i < n; i++)
            members[i].err = WEIR_KERR_UNKNOWN_MEMBER_ID;
        return WEIR_KERR_NONE;
    }
    if (g->state == WEIR_GROUP_DEAD)
        return WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
    weir__coord_enter(co);
    for (int32_t i = 0; i < n; i++) {
        weir_leave_member_t *lm = &members[i];
        weir_member_t *m;

        if (lm->member_id.len <= 0) {
            /* Removal of a static member by its instance id alone (admin). */
            m = weir_group_static(g, lm->instance_id);
            lm->err = m ? WEIR_KERR_NONE : WEIR_KERR_UNKNOWN_MEMBER_ID;
        } else if (weir_gmap_get(&g->pending, lm->member_id.ptr, (size_t)lm->member_id.len)) {
            weir_group_remove_pending(g, lm->member_id.ptr, (size_t)lm->member_id.len);
            weir_group_maybe_complete_join(g);
            lm->err = WEIR_KERR_NONE;
            continue;
        } else {
            lm->err = weir__group_validate_member(g, lm->member_id, lm->instance_id);
            m = lm->err ? NULL : weir__group_member(g, lm->member_id);
            if (!lm->err && !m)
                lm->err = WEIR_KERR_UNKNOWN_MEMBER_ID;
        }
        if (m)
            weir_group_remove_member(g, m, "member left the group (LeaveGroup)");
    }
    weir_group_rearm(g);
    weir__coord_leave(co);
    return WEIR_KERR_NONE;
}

/* ------------------------------------------------------------------ */
/* Waiter cancellation                                                */

void
weir_gwait_cancel(weir_gwait_t *w)
{
    weir_coord_t *co = w->co;
    weir_member_t *m = w->parked_on;

    if (!co)
        return;
    weir__coord_enter(co);
    if (m) {
        weir_group_t *g = m->group;

        w->parked_on = NULL;
        if (m->join_wait == w) {
            m->join_wait = NULL;
            g->nawaiting_join--;
            if (m->is_new && !m->instance_id) {
                weir_group_remove_member(g, m, "connection closed during its first JoinGroup");
            } else {
                weir_group_touch(g, m);
            }
        } else if (m->sync_wait == w) {
            m->sync_wait = NULL;
            weir_group_touch(g, m);
        }
        weir_group_rearm(g);
    }
    if (w->queued) {
        weir_gwait_t **pp = &co->done_head, *prev = NULL;

        while (*pp && *pp != w) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = w->qnext;
            if (co->done_tail == w)
                co->done_tail = prev;
        }
        w->queued = false;
        w->qnext = NULL;
    }
    weir_gwait_release(w);
    weir__coord_leave(co);
}

/* ------------------------------------------------------------------ */
/* DeleteGroups                                                       */

void
weir_coord_delete_groups(weir_coord_t *co, const weir_str_t *group_ids, weir_kerr_t *errs,
                         int32_t n, weir_gwait_t *w)
{
    weir__coord_enter(co);
    w->co = co;
    w->errs = errs;
    w->parts = NULL;
    w->ops_left = 1; /* guard while queuing */
    for (int32_t i = 0; i < n; i++) {
        weir_str_t id = group_ids[i];
        weir_group_t *g;

        if (!weir__group_id_ok(id, true)) {
            errs[i] = WEIR_KERR_INVALID_GROUP_ID;
            continue;
        }
        if (co->stopping) {
            errs[i] = WEIR_KERR_COORDINATOR_NOT_AVAILABLE;
            continue;
        }
        g = weir__group_get(co, id.ptr, (size_t)id.len);
        if (!g) {
            errs[i] = WEIR_KERR_GROUP_ID_NOT_FOUND;
        } else if (g->state == WEIR_GROUP_DEAD) {
            /* Named twice in this request: the same outcome. */
            if (g->deleting == w) {
                w->ops_left++;
                weir__store_delete_group(co, g, w, i);
            } else {
                errs[i] = WEIR_KERR_GROUP_ID_NOT_FOUND;
            }
        } else if (g->state == WEIR_GROUP_EMPTY) {
            WEIR_LOG(WEIR_LOG_INFO, "group_deleting", "group=%s offsets=%zu", g->id,
                     g->offsets.count);
            g->state = WEIR_GROUP_DEAD;
            g->deleting = w;
            w->ops_left++;
            weir__store_delete_group(co, g, w, i);
        } else {
            errs[i] = WEIR_KERR_NON_EMPTY_GROUP;
        }
    }
    if (--w->ops_left == 0)
        weir__gwait_complete(w, WEIR_KERR_NONE);
    weir__store_kick(co);
    weir__coord_leave(co);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */

static void
weir_coord_on_retention(uv_timer_t *t)
{
    weir_coord_t *co = t->data;

    weir_coord_expire_offsets(co, weir_wall_ms());
}

static void
weir_coord_on_retention_closed(uv_handle_t *h)
{
    weir_coord_t *co = h->data;

    co->open_handles--;
    weir__coord_maybe_free(co);
}

int
weir_coord_open(uv_loop_t *loop, const weir_conf_t *conf, const char *db_path, weir_coord_t **out,
                char *errstr, size_t errstr_size)
{
    weir_coord_t *co = weir_calloc(1, sizeof(*co));
    uint64_t every = (uint64_t)conf->offsets_retention_check_interval_ms;

    *out = NULL;
    co->loop = loop;
    co->conf = conf;
    if (weir_store_open(db_path, &co->store, errstr, errstr_size) != 0) {
        free(co);
        return WEIR_ERR;
    }
    if (weir_store_set_durable(co->store) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot make offset commits durable", db_path);
        weir_store_close(co->store);
        free(co);
        return WEIR_ERR;
    }
    if (weir__coord_load(co, errstr, errstr_size) != 0) {
        weir_gmap_iter_t it;
        weir_group_t *g;

        /* Nothing ran yet: close the group timers and free synchronously
         * once the loop has processed the closes. */
        weir_gmap_iter_init(&it, &co->groups);
        while ((g = weir_gmap_iter_next(&it)) != NULL)
            weir__group_forget(g);
        co->stopping = true;
        weir__store_free(co);
        weir__coord_maybe_free(co);
        return WEIR_ERR;
    }
    uv_timer_init(loop, &co->retention_timer);
    co->retention_timer.data = co;
    co->open_handles++;
    uv_timer_start(&co->retention_timer, weir_coord_on_retention, every, every);
    WEIR_LOG(WEIR_LOG_INFO, "group_coordinator_started", "groups=%zu", co->groups.count);
    *out = co;
    weir__store_kick(co);
    return 0;
}

void
weir_coord_stop(weir_coord_t *co)
{
    weir_gmap_iter_t it;
    weir_group_t *g;

    if (!co || co->stopping)
        return;
    weir__coord_enter(co);
    co->stopping = true;
    /* Kafka answers NOT_COORDINATOR when it unloads a group. */
    weir_gmap_iter_init(&it, &co->groups);
    while ((g = weir_gmap_iter_next(&it)) != NULL) {
        for (weir_member_t *m = g->head; m; m = m->next) {
            if (m->join_wait) {
                weir_gwait_t *w = m->join_wait;
                m->join_wait = NULL;
                g->nawaiting_join--;
                weir_join_error(w, m->member_id, WEIR_KERR_NOT_COORDINATOR);
            }
            if (m->sync_wait) {
                weir_gwait_t *w = m->sync_wait;
                m->sync_wait = NULL;
                weir_sync_error(w, WEIR_KERR_NOT_COORDINATOR);
            }
        }
    }
    weir__coord_leave(co);
    WEIR_LOG(WEIR_LOG_INFO, "group_coordinator_stopping", "groups=%zu pending_writes=%zu",
             co->groups.count, weir_coord_pending_writes(co));
    weir_gmap_iter_init(&it, &co->groups);
    while ((g = weir_gmap_iter_next(&it)) != NULL)
        weir__group_forget(g);
    uv_close((uv_handle_t *)&co->retention_timer, weir_coord_on_retention_closed);
    /* Offsets accepted but not written yet still are. */
    weir__store_kick(co);
}

void
weir__coord_maybe_free(weir_coord_t *co)
{
    if (!co->stopping || co->open_handles > 0 || co->job || co->depth > 0)
        return;
    weir__store_free(co);
    weir_gmap_free(&co->groups);
    if (co->store)
        weir_store_close(co->store);
    WEIR_LOG(WEIR_LOG_INFO, "group_coordinator_stopped", "note=\"offsets written\"");
    free(co);
}
