# (included before the Makefile's first target: keep `make` = `make all`)
.DEFAULT_GOAL := all

# The eBPF probe: vmlinux.h from the running kernel's BTF, the CO-RE object
# compiled by clang for the bpf target, and its skeleton, all generated into
# $(BUILD)/ at build time; the loader (probes/ebpf.c) links libbpf.

# bpftool lives in /usr/sbin, which a normal user's PATH may lack
BPFTOOL    ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
BPF_CLANG  ?= clang
BPF_ARCH   := x86
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

BPF_SRC    := probes/jitmm.bpf.c
BPF_OBJ    := $(BUILD)/bpf/jitmm.bpf.o
BPF_SKEL   := $(BUILD)/bpf/jitmm.skel.h
VMLINUX_H  := $(BUILD)/bpf/vmlinux.h

EXTRA_CFLAGS += -I$(BUILD)/bpf $(shell pkg-config --cflags libbpf 2>/dev/null)
EXTRA_LIBS   += $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz

$(VMLINUX_H): | $(DEPS_OK)
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

# -mcpu=v3: atomic fetch-and-add whose result is used (slot allocation)
$(BPF_OBJ): $(BPF_SRC) probes/ebpf_events.h $(VMLINUX_H)
	$(BPF_CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) \
		-I$(BUILD)/bpf -Iprobes -Wall -Werror -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name jitmm_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/probes/ebpf.o: $(BPF_SKEL)
