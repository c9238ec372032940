# Shared WDM glue of the virtio WDM drivers (rng, pvpanic, balloon, serial):
# PnP/power, PCI resources and BARs, virtio_os_ops, interrupts, DMA.
# vwdm_pci.c is portable and also built for the host unit tests.
WINLIBS  += vwdm
HOSTLIBS += vwdm_host
vwdm_SRCS      := src/wdm/vwdm_pnp.c src/wdm/vwdm_res.c src/wdm/vwdm_pci.c src/wdm/vwdm_work.c
vwdm_CFLAGS    := -Isrc/wdm
vwdm_host_SRCS := src/wdm/vwdm_pci.c
