/* The harness itself: a run in which no check ran fails. CMakeLists.txt
 * runs this as the unit test brtest_none, which passes only when this
 * binary exits non-zero (WILL_FAIL). */
#include "brtest.h"

int main(void) {
    return brt_done();
}
