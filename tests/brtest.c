#include "brtest.h"

int brt_pass, brt_fail;

int brt_done(void) {
    printf("%d passed, %d failed\n", brt_pass, brt_fail);
    return brt_fail ? 1 : 0;
}
