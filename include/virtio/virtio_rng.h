/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OpenVDP virtio: entropy device (virtio 1.2 5.4). No feature bits and no
 * device configuration. One queue, requestq (index 0): the driver posts
 * device-writable buffers; the used length says how many bytes are random.
 */
#ifndef OPENVDP_VIRTIO_RNG_H
#define OPENVDP_VIRTIO_RNG_H

#define VIRTIO_RNG_QUEUE_REQUEST         0

#endif /* OPENVDP_VIRTIO_RNG_H */
