# The VM test host (see HACKING.md and tests/vmhost/*.c).
#
#   out/host/bin/vdphost          loads and runs a Windows x64 .sys (static,
#                                 so it runs in the busybox guest)
#   out/x64/vmhost/*.sys          small test drivers for the host itself
#   out/host/tests/vmhost_unit    host unit tests (cmocka), check vmhost-unit
#   check vm                      boots QEMU guests (ci/vm/suite.sh)

VMHOST_CORE := tests/vmhost/pe_image.c tests/vmhost/nt_kernel.c \
	tests/vmhost/nt_sched.c tests/vmhost/nt_trap.c tests/vmhost/nt_fmt.c \
	tests/vmhost/dma_pool.c tests/vmhost/vh_util.c tests/vmhost/nt_storport.c \
	tests/vmhost/pci_sysfs.c tests/vmhost/disk_test.c tests/vmhost/vh_thread.c \
	tests/vmhost/nt_ndis.c tests/vmhost/net_test.c tests/vmhost/inf_reg.c
# network bench and reset test
VMHOST_CORE += tests/vmhost/net_bench.c tests/bench/bench_frame.c
# WDM drivers: I/O and PnP manager emulation, driver sessions
VMHOST_CORE += tests/vmhost/nt_io.c tests/vmhost/wdm_test.c

HOSTPROGS += vdphost
vdphost_SRCS   := tests/vmhost/vdphost.c $(VMHOST_CORE)
vdphost_LDLIBS := -static -pthread

# Test drivers: x64 only (the loader runs PE32+), linked like real drivers
# but never packed or signed.
VMHOST_SYS_NAMES := hello faulty unresolved vblkmini
VMHOST_SYS := $(foreach n,$(VMHOST_SYS_NAMES),$(O)/x64/vmhost/$(n).sys)
$(O)/x64/vmhost/%.sys: $(O)/x64/obj/tests/vmhost/sys/%.o $(O)/x64/lib/libstorport.a
	$(call msg,LD.x64,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC_x64) -o $@ $< $(KLDFLAGS) $(KLDFLAGS_x64) -L$(O)/x64/lib -lstorport -lntoskrnl -lhal -lgcc
.SECONDARY: $(foreach n,$(VMHOST_SYS_NAMES),$(O)/x64/obj/tests/vmhost/sys/$(n).o)

VMHOST_UNIT := $(HOST_TESTBIN)/vmhost_unit
VMHOST_UNIT_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,tests/vmhost/test_vmhost.c $(VMHOST_CORE))
$(VMHOST_UNIT): $(VMHOST_UNIT_OBJS)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $^ -lcmocka -pthread
-include $(VMHOST_UNIT_OBJS:.o=.d)

vmhost: $(HOST_BIN)/vdphost $(VMHOST_SYS) $(VMHOST_UNIT)
.PHONY: vmhost

# The NDIS emulation's own unit tests (no VM): timers, work items, MDL
# chains, configuration, spin locks.
VMHOST_NDIS_UNIT := $(HOST_TESTBIN)/vmhost_ndis_unit
VMHOST_NDIS_UNIT_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,tests/vmhost/test_ndis.c $(VMHOST_CORE))
$(VMHOST_NDIS_UNIT): $(VMHOST_NDIS_UNIT_OBJS)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $^ -lcmocka -pthread
-include $(HOST_OBJ)/tests/vmhost/test_ndis.d
vmhost: $(VMHOST_NDIS_UNIT)

CHECKS += vmhost-ndis
check-vmhost-ndis: $(VMHOST_NDIS_UNIT)
	$(call tap,vmhost-ndis,env CMOCKA_MESSAGE_OUTPUT=TAP $(VMHOST_NDIS_UNIT))

# Emulated processors: count, current number, pinning, DPC targets.
VMHOST_CPU_UNIT := $(HOST_TESTBIN)/vmhost_cpu_unit
VMHOST_CPU_UNIT_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,tests/vmhost/test_cpu.c $(VMHOST_CORE))
$(VMHOST_CPU_UNIT): $(VMHOST_CPU_UNIT_OBJS)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $^ -lcmocka -pthread
-include $(HOST_OBJ)/tests/vmhost/test_cpu.d
vmhost: $(VMHOST_CPU_UNIT)
CHECKS += vmhost-cpu
check-vmhost-cpu: $(VMHOST_CPU_UNIT)
	$(call tap,vmhost-cpu,env CMOCKA_MESSAGE_OUTPUT=TAP $(VMHOST_CPU_UNIT))

CHECKS += vmhost-unit
check-vmhost-unit: $(VMHOST_UNIT) $(HOST_BIN)/vdphost $(VMHOST_SYS)
	$(call tap,vmhost-unit,env CMOCKA_MESSAGE_OUTPUT=TAP VDP_VMHOST_SYS=$(O)/x64/vmhost \
		VDP_VDPHOST=$(HOST_BIN)/vdphost $(VMHOST_UNIT))

# The guest gets vdphost, every test driver and the project's x64 drivers
# that ci/vm/tests.list runs; the suite fetches the guest kernel itself
# (apt-get download) and reports a clear failure when offline.
VMHOST_DRIVERS := $(foreach d,$(filter vdpblk vdpnet vdprng vdppanic vdpballoon vdpserial,$(DRIVERS)),$(O)/x64/$(d).sys)
CHECKS += vm
check-vm: $(HOST_BIN)/vdphost $(VMHOST_SYS) $(VMHOST_DRIVERS) $$(VMHOST_INFS)
	$(call tap,vm,env VDP_OUT=$(O) ci/vm/suite.sh $^)

# ---- WDM: the I/O manager emulation's own unit tests (no VM):
# stack locations, completion routines, pending IRPs, IoCsq and IoCancelIrp,
# remove locks, device interfaces, bus interface, bug checks, page MDLs.
VMHOST_IO_UNIT := $(HOST_TESTBIN)/vmhost_io_unit
VMHOST_IO_UNIT_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,tests/vmhost/test_nt_io.c $(VMHOST_CORE))
$(VMHOST_IO_UNIT): $(VMHOST_IO_UNIT_OBJS)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $^ -lcmocka -pthread
-include $(HOST_OBJ)/tests/vmhost/test_nt_io.d
vmhost: $(VMHOST_IO_UNIT)

CHECKS += vmhost-io
check-vmhost-io: $(VMHOST_IO_UNIT)
	$(call tap,vmhost-io,env CMOCKA_MESSAGE_OUTPUT=TAP $(VMHOST_IO_UNIT))

# ---- StorPort emulation checks: lock order, busy handling
# (StorPortDeviceBusy/Ready, SRB_STATUS_BUSY resubmission) and the SRB_EX
# gate, with a fake miniport on the host (no VM).
VMHOST_SP_UNIT := $(HOST_TESTBIN)/vmhost_storport_unit
VMHOST_SP_UNIT_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,tests/vmhost/test_storport.c $(VMHOST_CORE))
$(VMHOST_SP_UNIT): $(VMHOST_SP_UNIT_OBJS)
	$(call msg,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOSTCC) $(HOSTLDFLAGS) -o $@ $^ -lcmocka -pthread
-include $(HOST_OBJ)/tests/vmhost/test_storport.d
# splock.sys: a real x64 driver breaking the lock order (tests/vmhost/sys).
VMHOST_SP_SYS := $(O)/x64/vmhost/splock.sys
.SECONDARY: $(O)/x64/obj/tests/vmhost/sys/splock.o
vmhost: $(VMHOST_SP_UNIT) $(VMHOST_SP_SYS)
CHECKS += vmhost-storport
check-vmhost-storport: $(VMHOST_SP_UNIT) $(VMHOST_SP_SYS) $(HOST_BIN)/vdphost
	$(call tap,vmhost-storport,env CMOCKA_MESSAGE_OUTPUT=TAP VDP_VMHOST_SYS=$(O)/x64/vmhost \
		VDP_VDPHOST=$(HOST_BIN)/vdphost $(VMHOST_SP_UNIT))
# ---- end StorPort emulation checks
