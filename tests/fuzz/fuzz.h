/* A fuzz target is one file tests/fuzz/fuzz_NAME.c defining
 * LLVMFuzzerTestOneInput; its seeds and kept crash inputs live in
 * tests/fuzz/corpus/NAME/. mk/fuzz.mk builds each target twice: with
 * libFuzzer (make fuzz) and with tests/fuzz/replay.c, a main that feeds
 * every file of the corpus once (make test). */
#ifndef JITMM_FUZZ_H
#define JITMM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
