/*
 * The C half of bench/dstu_verify.sh: one DSTU 4145 verification with UAPKI's uapkic
 * (specinfo-ua/UAPKI, library/uapkic, BSD-2-Clause), timed on the same vectors as kepgate's
 * `dstu_verify_bench` example. Ours, not UAPKI's; it only links to uapkic.
 *
 * Reads the vectors from stdin, one per line, as `dstu_verify_bench vectors` prints them:
 *   NAME COMPRESSED_KEY_HEX DIGEST_HEX SIGNATURE_HEX      (little-endian octets, signature r||s)
 * and does for each what UAPKI itself does to verify a DSTU signature (library/common/pkix/
 * uapki-ns-verify.cpp, Verify::verifyEcSign): ec_alloc_default, dstu4145_decompress_pubkey,
 * ba_swap, ec_init_verify, then dstu4145_verify over the digest with r and s the two halves.
 * The key set-up is done once, outside the timing, as kepgate parses its key once too.
 *
 * usage: uapki_verify ITERATIONS [OPT_LEVEL_HEX] < vectors
 * OPT_LEVEL_HEX (optional) is one of uapkic's OptLevelId values, e.g. b0b0 for comb tables of
 * width 11 for both points; without it uapkic's default (width-5 windows) is used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "byte-array.h"
#include "dstu4145.h"
#include "ec.h"
#include "uapkic-errors.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, const char *name, int ret)
{
    fprintf(stderr, "uapki_verify: %s failed on %s (%d)\n", what, name, ret);
    exit(1);
}

int main(int argc, char **argv)
{
    char name[16], key_hex[256], digest_hex[256], sig_hex[512];
    long iterations;
    unsigned opt_level = 0;

    if (argc < 2 || argc > 3 || (iterations = strtol(argv[1], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: uapki_verify ITERATIONS [OPT_LEVEL_HEX] < vectors\n");
        return 2;
    }
    if (argc == 3) {
        opt_level = (unsigned)strtoul(argv[2], NULL, 16);
    }

    while (scanf("%15s %255s %255s %511s", name, key_hex, digest_hex, sig_hex) == 4) {
        EcParamsId id;
        EcCtx *ctx;
        ByteArray *key, *digest, *sig, *r, *s, *qx = NULL, *qy = NULL, *changed;
        size_t half;
        long i;
        int ret;
        double start, us;

        if (strcmp(name, "M257") == 0) {
            id = EC_PARAMS_ID_DSTU4145_M257_PB;
        } else if (strcmp(name, "M431") == 0) {
            id = EC_PARAMS_ID_DSTU4145_M431_PB;
        } else {
            fprintf(stderr, "uapki_verify: unknown curve %s\n", name);
            return 1;
        }
        key = ba_alloc_from_hex(key_hex);
        digest = ba_alloc_from_hex(digest_hex);
        sig = ba_alloc_from_hex(sig_hex);
        if (key == NULL || digest == NULL || sig == NULL) {
            die("hex decoding", name, 0);
        }
        half = ba_get_len(sig) / 2;
        r = ba_copy_with_alloc(sig, 0, half);
        s = ba_copy_with_alloc(sig, half, half);

        if ((ctx = ec_alloc_default(id)) == NULL) {
            die("ec_alloc_default", name, 0);
        }
        if (opt_level != 0 && (ret = ec_set_opt_level(ctx, (OptLevelId)opt_level)) != RET_OK) {
            die("ec_set_opt_level", name, ret);
        }
        if ((ret = dstu4145_decompress_pubkey(ctx, key, &qx, &qy)) != RET_OK) {
            die("dstu4145_decompress_pubkey", name, ret);
        }
        ba_swap(qx);
        ba_swap(qy);
        if ((ret = ec_init_verify(ctx, qx, qy)) != RET_OK) {
            die("ec_init_verify", name, ret);
        }
        if ((ret = dstu4145_verify(ctx, digest, r, s)) != RET_OK) {
            die("dstu4145_verify of the vector", name, ret);
        }
        changed = ba_copy_with_alloc(digest, 0, 0);
        ba_get_buf(changed)[0] ^= 1;
        if (dstu4145_verify(ctx, changed, r, s) == RET_OK) {
            die("rejecting a changed digest", name, 0);
        }

        for (i = 0; i < (iterations + 9) / 10; i++) { /* warm-up */
            dstu4145_verify(ctx, digest, r, s);
        }
        start = now_us();
        for (i = 0; i < iterations; i++) {
            if ((ret = dstu4145_verify(ctx, digest, r, s)) != RET_OK) {
                die("dstu4145_verify", name, ret);
            }
        }
        us = (now_us() - start) / (double)iterations;
        printf("uapki%s %s %.1f\n", opt_level != 0 ? "-opt" : "", name, us);

        ec_free(ctx);
        ba_free(key);
        ba_free(digest);
        ba_free(sig);
        ba_free(r);
        ba_free(s);
        ba_free(qx);
        ba_free(qy);
        ba_free(changed);
    }
    return 0;
}
