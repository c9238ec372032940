# vdpblk: virtio-blk StorPort miniport (see HACKING.md for the fragment rules).
