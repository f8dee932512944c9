/*
 * INCRBYFLOAT arithmetic in C's `long double`.
 *
 * Redis parses the stored value and the increment with strtold(), adds them as long
 * doubles (80-bit x87 extended precision on x86-64) and prints the sum with "%.17Lf",
 * dropping trailing zeros. Rust has no 80-bit float, and doing the same in f64 gives
 * visibly different strings (10.5 + 0.1 must print "10.6"), so this one function is
 * written in C against the platform's own long double, strtold and printf.
 *
 * Parsing refuses what Redis refuses: an empty or over-long argument, leading white
 * space, anything after the number, NaN, and values that overflow or underflow to zero.
 * "inf" parses (the sum is then refused as infinite, as in Redis).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest argument accepted and longest result produced, as in Redis. */
#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

enum {
    VIREO_INCRBYFLOAT_OK = 0,
    VIREO_INCRBYFLOAT_NOT_A_FLOAT = 1,
    VIREO_INCRBYFLOAT_NAN_OR_INF = 2,
};

static int parse_long_double(const char *s, size_t len, long double *out)
{
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    /* strtold needs a terminator; a NUL inside the argument ends the number there. */
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' ||
        (errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL || isnan(v))
        return 0;
    *out = v;
    return 1;
}

/*
 * Adds `incr` to `current` (NULL for a missing key, which counts as 0) and writes the
 * sum as Redis prints it into `out` (at least MAX_LONG_DOUBLE_CHARS bytes), its length
 * into `*out_len`. A sum too long for the buffer is written as the empty string, as
 * Redis does. Returns one of the VIREO_INCRBYFLOAT_* codes.
 */
int vireo_incrbyfloat(const char *current, size_t current_len, const char *incr,
                      size_t incr_len, char *out, size_t *out_len)
{
    long double value = 0, by;
    int n;

    if ((current != NULL && !parse_long_double(current, current_len, &value)) ||
        !parse_long_double(incr, incr_len, &by))
        return VIREO_INCRBYFLOAT_NOT_A_FLOAT;
    value += by;
    if (isnan(value) || isinf(value))
        return VIREO_INCRBYFLOAT_NAN_OR_INF;

    n = snprintf(out, MAX_LONG_DOUBLE_CHARS, "%.17Lf", value);
    if (n < 0 || n + 1 > MAX_LONG_DOUBLE_CHARS) {
        *out_len = 0;
        return VIREO_INCRBYFLOAT_OK;
    }
    /* Drop the zeros after the point, then the point itself if nothing follows it. */
    if (strchr(out, '.') != NULL) {
        while (out[n - 1] == '0')
            n--;
        if (out[n - 1] == '.')
            n--;
    }
    if (n == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        n = 1;
    }
    *out_len = (size_t)n;
    return VIREO_INCRBYFLOAT_OK;
}
