/*
 * weir_kerr.c: names of Kafka wire error codes, for logs and messages.
 */
#include "weir_kerr.h"

const char *
weir_kerr_name(weir_kerr_t err)
{
    switch (err) {
#define WEIR_KERR_CASE(name, code) \
    case WEIR_KERR_##name:        \
        return #name;
        WEIR_KERR_LIST(WEIR_KERR_CASE)
#undef WEIR_KERR_CASE
    }
    return "UNKNOWN";
}
