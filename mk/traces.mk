# Compressed traces (.xz via liblzma, .zst via libzstd) and ELF ingestion
# (libelf) for workloads/trace_*.c and harness/cmd_trace.c.
EXTRA_LIBS += -lelf -llzma -lzstd
