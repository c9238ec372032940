/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdpblk: the request path. HwBuildIo translates (blk_scsi, no device
 * access), HwStartIo posts the chain under the queue lock and notifies
 * outside it, the queue DPC completes, recovery resets the device.
 */
#include "blk_drv.h"

#define VBLK_DUMP_POLLS   1500000u   /* about 30 s of 20 us polls */
#define VBLK_DUMP_STEP_US 20u

/* blk_scsi.c has no Windows headers; it promises these values. */
_Static_assert(VBLK_SRB_STATUS_SUCCESS == SRB_STATUS_SUCCESS, "SRB status");
_Static_assert(VBLK_SRB_STATUS_ERROR == SRB_STATUS_ERROR, "SRB status");
_Static_assert(VBLK_SRB_STATUS_INVALID_REQUEST == SRB_STATUS_INVALID_REQUEST, "SRB status");

/*
 * The queue lock for the context the caller runs in (see blk_drv.h): never
 * a lock StorPort already holds, never one that comes earlier in StorPort's
 * order than one held. Handles left InvalidLock were not taken.
 */
void vblk_queue_lock(struct vblk_adapter *a, struct vblk_queue *q, enum vblk_lock_ctx ctx,
		     struct vblk_lock *l)
{
	l->dpc.Lock = InvalidLock;
	l->outer.Lock = InvalidLock;
	if (a->dump)
		return;
	/* Before HwPassiveInitialize there are no DPCs; the interrupt lock is last in order. */
	if (!a->dpcs_ready) {
		StorPortAcquireSpinLock(a, InterruptLock, NULL, &l->outer);
		return;
	}
	/* HwResetBus: StartIo lock and channel tokens already keep everyone out. */
	if (ctx == VBLK_CTX_RESETBUS)
		return;
	if (a->concurrent)
		StorPortAcquireSpinLock(a, DpcLock, &q->dpc, &l->dpc);
	/* A DPC also takes the StartIo lock, after the DpcLock: HwResetBus holds it. */
	if (ctx == VBLK_CTX_NONE)
		StorPortAcquireSpinLock(a, StartIoLock, NULL, &l->outer);
}

void vblk_queue_unlock(struct vblk_adapter *a, struct vblk_lock *l)
{
	if (a->dump)
		return;
	if (l->outer.Lock != InvalidLock)
		StorPortReleaseSpinLock(a, &l->outer);
	if (l->dpc.Lock != InvalidLock)
		StorPortReleaseSpinLock(a, &l->dpc);
}

void vblk_complete_srb(struct vblk_adapter *a, PVOID srb, UCHAR status)
{
	SrbSetSrbStatus(srb, status);
	StorPortNotification(RequestComplete, a, srb);
}

/* ------------------------------------------------------------ SRB / SRB_EX */
/*
 * Where the request keeps its CDB, SCSI status and sense buffer: in the
 * classic SRB itself, or in the SRB_EX's CDB16, CDB32 or variable-length
 * CDB block (bounds-checked by SrbGetSrbExDataByType). FALSE when an SRB_EX
 * carries none of them.
 */
/* The CDB block types name their fields alike; room bounds the CDB length. */
#define SRB_SCSI_VIEW(s, c, room)                                                               \
	do {                                                                                    \
		(s)->cdb = (c)->Cdb;                                                            \
		(s)->cdb_length = (c)->CdbLength <= (room) ? (c)->CdbLength : 0;                \
		(s)->scsi_status = &(c)->ScsiStatus;                                            \
		(s)->sense = (c)->SenseInfoBuffer;                                              \
		(s)->sense_length = &(c)->SenseInfoBufferLength;                                \
	} while (0)

static BOOLEAN srb_scsi(PVOID srb, struct vblk_srb_scsi *s)
{
	PSTORAGE_REQUEST_BLOCK ex = srb;
	PSRBEX_DATA d;

	__builtin_memset(s, 0, sizeof(*s));
	if (!SrbIsStorageRequestBlock(srb)) {
		PSCSI_REQUEST_BLOCK c = srb;

		SRB_SCSI_VIEW(s, c, sizeof(c->Cdb));
		return TRUE;
	}
	if ((d = SrbGetSrbExDataByType(ex, SrbExDataTypeScsiCdb16)) &&
	    d->Length >= SRBEX_DATA_SCSI_CDB16_LENGTH) {
		PSRBEX_DATA_SCSI_CDB16 c = (PSRBEX_DATA_SCSI_CDB16)d;

		SRB_SCSI_VIEW(s, c, sizeof(c->Cdb));
		return TRUE;
	}
	if ((d = SrbGetSrbExDataByType(ex, SrbExDataTypeScsiCdb32)) &&
	    d->Length >= SRBEX_DATA_SCSI_CDB32_LENGTH) {
		PSRBEX_DATA_SCSI_CDB32 c = (PSRBEX_DATA_SCSI_CDB32)d;

		SRB_SCSI_VIEW(s, c, sizeof(c->Cdb));
		return TRUE;
	}
	if ((d = SrbGetSrbExDataByType(ex, SrbExDataTypeScsiCdbVar)) &&
	    d->Length >= SRBEX_DATA_SCSI_CDB_VAR_LENGTH_MIN) {
		PSRBEX_DATA_SCSI_CDB_VAR c = (PSRBEX_DATA_SCSI_CDB_VAR)d;
		/* d->Length counts from Data; the CDB bytes must lie inside it. */
		ULONG room = d->Length - (ULONG)(FIELD_OFFSET(SRBEX_DATA_SCSI_CDB_VAR, Cdb) -
						 FIELD_OFFSET(SRBEX_DATA, Data));

		SRB_SCSI_VIEW(s, c, room);
		return TRUE;
	}
	return FALSE;
}

/* Final status of a translated command (answered, failed or device-completed). */
static void finish_cmd(struct vblk_adapter *a, struct vblk_srb_ext *ext)
{
	PVOID srb = ext->srb;
	struct vblk_scsi_cmd *cmd = &ext->cmd;
	struct vblk_srb_scsi *s = &ext->scsi;
	UCHAR status;

	if (cmd->action == VBLK_ACTION_COMPLETE) {
		if (s->scsi_status)
			*s->scsi_status = SCSISTAT_GOOD;
		if (cmd->data_transferred < SrbGetDataTransferLength(srb))
			SrbSetDataTransferLength(srb, cmd->data_transferred);
		status = SRB_STATUS_SUCCESS;
	} else {
		if (s->scsi_status)
			*s->scsi_status = SCSISTAT_CHECK_CONDITION;
		SrbSetDataTransferLength(srb, 0);
		status = SRB_STATUS_ERROR;
		if (cmd->cdb && s->sense && s->sense_length && *s->sense_length &&
		    !(SrbGetSrbFlags(srb) & SRB_FLAGS_DISABLE_AUTOSENSE)) {
			*s->sense_length = (UCHAR)vblk_scsi_build_sense(s->sense, *s->sense_length,
									&cmd->sense);
			status |= SRB_STATUS_AUTOSENSE_VALID;
		}
	}
	vblk_complete_srb(a, srb, status);
}

/* ------------------------------------------------------------ HwBuildIo */
BOOLEAN vblk_build_io(struct vblk_adapter *a, PVOID srb)
{
	ULONG function = SrbGetSrbFunction(srb);
	struct vblk_srb_ext *ext = SrbGetMiniportContext(srb);
	struct vblk_scsi_cmd *cmd = NULL;
	struct vblk_disk disk;
	UCHAR path, target, lun;

	switch (function) {
	case SRB_FUNCTION_EXECUTE_SCSI:
	case SRB_FUNCTION_FLUSH:
	case SRB_FUNCTION_SHUTDOWN:
		/* Only requests that may reach the device need the extension. */
		if (!ext) {
			vblk_complete_srb(a, srb, SRB_STATUS_ERROR);
			return FALSE;
		}
		ext->srb = srb;
		ext->q = NULL;
		ext->next = NULL;
		ext->flushing = FALSE;
		ext->done = FALSE;
		__builtin_memset(&ext->cmd, 0, sizeof(ext->cmd));
		__builtin_memset(&ext->scsi, 0, sizeof(ext->scsi));
		cmd = &ext->cmd;
		/* A configuration update in progress on another CPU: StorPort retries. */
		if (!vblk_disk_read(a, &disk)) {
			vblk_complete_srb(a, srb, SRB_STATUS_BUSY);
			return FALSE;
		}
		break;
	default:
		break;
	}

	switch (function) {
	case SRB_FUNCTION_EXECUTE_SCSI:
		if (!SrbGetPathTargetLun(srb, &path, &target, &lun) || path || target) {
			vblk_complete_srb(a, srb, SRB_STATUS_NO_DEVICE);
			return FALSE;
		}
		if (lun) {
			vblk_complete_srb(a, srb, SRB_STATUS_INVALID_LUN);
			return FALSE;
		}
		if (a->removed || a->dead) {
			vblk_complete_srb(a, srb, SRB_STATUS_NO_DEVICE);
			return FALSE;
		}
		if (!srb_scsi(srb, &ext->scsi)) {
			vblk_complete_srb(a, srb, SRB_STATUS_INVALID_REQUEST);
			return FALSE;
		}
		cmd->cdb = ext->scsi.cdb;
		cmd->cdb_length = ext->scsi.cdb_length;
		cmd->data = SrbGetDataBuffer(srb);
		cmd->data_length = cmd->data ? SrbGetDataTransferLength(srb) : 0;
		cmd->ranges = ext->ranges;
		cmd->max_ranges = VBLK_DMA_RANGES;
		/* HwBuildIo runs on several CPUs: exactly one reports the change. */
		if (a->capacity_changed && vblk_scsi_unit_attention_applies(cmd) &&
		    InterlockedExchange(&a->capacity_changed, 0)) {
			vblk_scsi_unit_attention(cmd);
			finish_cmd(a, ext);
			return FALSE;
		}
		if (vblk_scsi_execute(&disk, cmd) == VBLK_ACTION_REQUEST)
			return TRUE;
		/*
		 * The LUN exists once INQUIRY answered: lift StorPort's small
		 * default depth to what the queues in use really hold.
		 */
		if (cmd->cdb_length && cmd->cdb[0] == SCSIOP_INQUIRY &&
		    cmd->action == VBLK_ACTION_COMPLETE && !a->dump &&
		    !InterlockedExchange(&a->depth_set, 1))
			StorPortSetDeviceQueueDepth(a, 0, 0, 0, a->plan.per_queue_io * a->nq);
		finish_cmd(a, ext);
		return FALSE;
	case SRB_FUNCTION_FLUSH:
	case SRB_FUNCTION_SHUTDOWN:
		if (!disk.write_cache || !disk.flush || a->removed || a->dead) {
			vblk_complete_srb(a, srb, SRB_STATUS_SUCCESS);
			return FALSE;
		}
		cmd->action = VBLK_ACTION_REQUEST;
		cmd->req.type = VIRTIO_BLK_T_FLUSH;
		return TRUE;
	case SRB_FUNCTION_RESET_BUS:
	case SRB_FUNCTION_RESET_DEVICE:
	case SRB_FUNCTION_RESET_LOGICAL_UNIT:
		return TRUE;
	case SRB_FUNCTION_PNP:
	case SRB_FUNCTION_POWER:
		/* Nothing to do per LUN: power and removal are handled per adapter. */
		vblk_complete_srb(a, srb, SRB_STATUS_SUCCESS);
		return FALSE;
	default:
		vblk_complete_srb(a, srb, SRB_STATUS_INVALID_REQUEST);
		return FALSE;
	}
}

/* ------------------------------------------------------------ posting */
static void push_slot(struct vblk_queue *q, uint16_t slot)
{
	if (q->nfree < q->adapter->plan.queue_size)
		q->free_slots[q->nfree++] = slot;
}

/*
 * Posts ext on q (queue lock held): header, ranges, data cut at the
 * device's segment size, GET_ID buffer, status. VIRTIO_EINVAL when the
 * request does not fit the limits StorPort was given.
 */
static int post_locked(struct vblk_adapter *a, struct vblk_queue *q, struct vblk_srb_ext *ext)
{
	const struct vblk_request *req = &ext->cmd.req;
	PSTOR_SCATTER_GATHER_LIST sgl = NULL;
	struct vblk_desc_shape shape;
	struct vblk_req_dma *r;
	struct vq_chain ch;
	uint32_t e, k, remaining, ndata = 0, limit = a->plan.seg_limit;
	uint64_t pa;
	uint16_t slot, nsegs;
	int rc;

	if (!q->vq || vq_is_broken(q->vq))
		return VIRTIO_EBROKEN;
	if (vblk_desc_shape(req->type, req->num_ranges, &shape))
		return VIRTIO_EINVAL;
	if (shape.data_in || shape.data_out) {
		if (!req->length)
			return VIRTIO_EINVAL;
		sgl = StorPortGetScatterGatherList(a, (PSCSI_REQUEST_BLOCK)ext->srb);
		if (!sgl)
			return VIRTIO_EINVAL;
		remaining = req->length;
		for (e = 0; e < sgl->NumberOfElements && remaining; e++) {
			uint32_t len = sgl->List[e].Length < remaining ? sgl->List[e].Length : remaining;

			ndata += vblk_sg_pieces(len, limit);
			remaining -= len;
			if (ndata > a->plan.data_descs)
				return VIRTIO_EINVAL;
		}
		if (remaining)
			return VIRTIO_EINVAL;   /* SG list shorter than the CDB asks */
	}
	if (!q->nfree)
		return VIRTIO_ENOSPC;
	nsegs = (uint16_t)(2u + shape.out_extra + ndata + (shape.id_in ? 1u : 0u));

	slot = q->free_slots[q->nfree - 1];
	r = &q->dma[slot];
	pa = q->dma_pa + (uint64_t)slot * sizeof(*r);
	r->hdr.type = cpu_to_le32(req->type);
	r->hdr.reserved = 0;
	r->hdr.sector = cpu_to_le64((req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_OUT) ?
				    req->sector : 0);
	for (k = 0; k < req->num_ranges && k < VBLK_DMA_RANGES; k++) {
		r->ranges[k].sector = cpu_to_le64(ext->ranges[k].sector);
		r->ranges[k].num_sectors = cpu_to_le32(ext->ranges[k].num_sectors);
		r->ranges[k].flags = cpu_to_le32(ext->ranges[k].flags);
	}
	r->status = 0xFF;       /* not a status the device may write: caught if untouched */

	rc = vq_chain_begin(q->vq, &ch, nsegs, ext);
	if (rc)
		return rc;
	rc = vq_chain_add(q->vq, &ch, pa + offsetof(struct vblk_req_dma, hdr), sizeof(r->hdr), false);
	if (!rc && shape.out_extra)
		rc = vq_chain_add(q->vq, &ch, pa + offsetof(struct vblk_req_dma, ranges),
				  req->num_ranges * (uint32_t)sizeof(r->ranges[0]), false);
	if (!rc && sgl) {
		remaining = req->length;
		for (e = 0; !rc && e < sgl->NumberOfElements && remaining; e++) {
			uint64_t addr = (uint64_t)sgl->List[e].PhysicalAddress.QuadPart;
			uint32_t len = sgl->List[e].Length < remaining ? sgl->List[e].Length : remaining;

			remaining -= len;
			while (!rc && len) {
				uint32_t piece = len < limit ? len : limit;

				rc = vq_chain_add(q->vq, &ch, addr, piece, shape.data_in);
				addr += piece;
				len -= piece;
			}
		}
	}
	if (!rc && shape.id_in)
		rc = vq_chain_add(q->vq, &ch, pa + offsetof(struct vblk_req_dma, id),
				  VIRTIO_BLK_ID_BYTES, true);
	if (!rc)
		rc = vq_chain_add(q->vq, &ch, pa + offsetof(struct vblk_req_dma, status), 1, true);
	if (rc) {
		vq_chain_abort(q->vq, &ch);
		return rc;
	}
	rc = vq_chain_commit(q->vq, &ch);
	if (rc)
		return rc;
	q->nfree--;
	ext->q = q;
	ext->slot = slot;
	return VIRTIO_OK;
}

/* ------------------------------------------------------------ completion */
static bool is_internal_cookie(struct vblk_queue *q, void *cookie)
{
	uint8_t *p = cookie, *base = (uint8_t *)q->dma;

	return p >= base && p < base + (size_t)q->adapter->plan.queue_size * sizeof(*q->dma);
}

/* Collects finished requests of q (queue lock held); true if a notify is due. */
static bool drain_locked(struct vblk_adapter *a, struct vblk_queue *q, struct vblk_srb_ext **list)
{
	bool posted = false;
	uint32_t len;
	void *cookie;
	int rc;

	if (!q->vq)
		return false;
	for (;;) {
		struct vblk_srb_ext *ext;
		uint8_t status;

		rc = vq_get_used(q->vq, &cookie, &len);
		if (rc == VIRTIO_ENOENT)
			break;
		if (rc != VIRTIO_OK) {
			InterlockedExchange(&a->reset_pending, 1);
			break;
		}
		if (is_internal_cookie(q, cookie)) {
			push_slot(q, (uint16_t)(((struct vblk_req_dma *)cookie) - q->dma));
			continue;
		}
		ext = cookie;
		status = q->dma[ext->slot].status;
		push_slot(q, ext->slot);
		if (!ext->flushing && status == VIRTIO_BLK_S_OK && ext->cmd.req.flush_after) {
			/* virtio-blk has no FUA: make the forced write durable first. */
			ext->flushing = TRUE;
			ext->cmd.req.type = VIRTIO_BLK_T_FLUSH;
			if (post_locked(a, q, ext) == VIRTIO_OK) {
				posted = true;
				continue;
			}
			status = VIRTIO_BLK_S_IOERR;
		}
		/* The SRB reports the write's bytes once its flush succeeded. */
		if (ext->flushing && status == VIRTIO_BLK_S_OK)
			ext->cmd.req.type = VIRTIO_BLK_T_OUT;
		vblk_scsi_complete(&ext->cmd, status);
		ext->next = *list;
		*list = ext;
	}
	return posted;
}

/* Completes a drained list (no lock held); true if watch was in it. */
static bool finish_list(struct vblk_adapter *a, struct vblk_srb_ext *list,
			struct vblk_srb_ext *watch)
{
	bool seen = false;

	while (list) {
		struct vblk_srb_ext *next = list->next;

		if (list == watch) {
			seen = true;
			list->done = TRUE;
		}
		finish_cmd(a, list);
		list = next;
	}
	return seen;
}

/*
 * After completions: if StorPortDeviceBusy held the LUN back, room exists
 * again. The flag is read after the slots were pushed back; submit() sets
 * it before it looks for outstanding requests, so one of the two always
 * lifts the busy state (see signal_busy()).
 */
static void lift_busy(struct vblk_adapter *a)
{
	/* Interlocked, not a plain read: it must not pass the slot pushes before it. */
	if (InterlockedExchange(&a->busy_signalled, 0))
		StorPortDeviceReady(a, 0, 0, 0);
}

static void service_queue(struct vblk_adapter *a, struct vblk_queue *q)
{
	struct vblk_srb_ext *list = NULL;
	struct vblk_lock h;
	bool kick = false;

	vblk_queue_lock(a, q, VBLK_CTX_NONE, &h);
	if (a->started && q->vq) {
		vq_disable_cb(q->vq);
		do {
			kick |= drain_locked(a, q, &list);
		} while (!vq_is_broken(q->vq) && vq_enable_cb(q->vq));
		/*
		 * Ring the doorbell before unlocking: once the lock is free a
		 * recovery on another CPU may rebuild this queue's state.
		 */
		if (kick && vq_kick_prepare(q->vq))
			vq_notify(q->vq);
	}
	vblk_queue_unlock(a, &h);
	if (list) {
		finish_list(a, list, NULL);
		if (!a->dump)
			lift_busy(a);
	}
	if (a->reset_pending)
		vblk_reset_and_recover(a, VBLK_CTX_NONE, SRB_STATUS_BUS_RESET);
}

void NTAPI vblk_queue_dpc(PSTOR_DPC dpc, PVOID device_extension, PVOID arg1, PVOID arg2)
{
	struct vblk_queue *q = CONTAINING_RECORD(dpc, struct vblk_queue, dpc);

	(void)arg1;
	(void)arg2;
	service_queue(device_extension, q);
}

void NTAPI vblk_config_dpc(PSTOR_DPC dpc, PVOID device_extension, PVOID arg1, PVOID arg2)
{
	struct vblk_adapter *a = device_extension;
	struct vblk_lock h;

	(void)dpc;
	(void)arg1;
	(void)arg2;
	/* Queue 0's lock serialises the disk's writers and recovery. */
	vblk_queue_lock(a, &a->q[0], VBLK_CTX_NONE, &h);
	vblk_config_changed(a);
	vblk_queue_unlock(a, &h);
	if (a->reset_pending)
		vblk_reset_and_recover(a, VBLK_CTX_NONE, SRB_STATUS_BUS_RESET);
}

void vblk_kick_queue_dpc(struct vblk_adapter *a, struct vblk_queue *q)
{
	if (a->dpcs_ready)
		StorPortIssueDpc(a, &q->dpc, NULL, NULL);
}

void vblk_poll_all(struct vblk_adapter *a)
{
	uint16_t i;

	for (i = 0; i < a->nq; i++)
		service_queue(a, &a->q[i]);
}

/* ------------------------------------------------------------ recovery */
/*
 * Reset the device (it stops all DMA), take back every posted request,
 * start the device again and complete what was taken back with status.
 * Only requests the driver posted are completed, each exactly once; a
 * concurrent caller returns at once (the first one does the work).
 * ctx says which StorPort lock the caller already holds (blk_drv.h).
 */
void vblk_reset_and_recover(struct vblk_adapter *a, enum vblk_lock_ctx ctx, UCHAR status)
{
	struct vblk_srb_ext *list = NULL, *ext;
	uint16_t i, nlocks = 0;
	void *cookie;

	/*
	 * One recovery at a time. The winner consumes the pending request;
	 * one raised after this point stays pending for the next DPC or
	 * submission, so no request for a reset is ever dropped.
	 */
	if (InterlockedCompareExchange(&a->recovering, 1, 0))
		return;
	InterlockedExchange(&a->reset_pending, 0);
	/*
	 * With channels and nothing held: every DpcLock in index order, then
	 * the StartIo lock (what each DPC holds). Otherwise what one queue's
	 * lock means in this context covers every queue.
	 */
	if (!a->dump && a->concurrent && a->dpcs_ready && ctx != VBLK_CTX_RESETBUS) {
		nlocks = a->nq;
		for (i = 0; i < nlocks; i++)
			StorPortAcquireSpinLock(a, DpcLock, &a->q[i].dpc, &a->q[i].reset_lock);
		a->reset_outer.dpc.Lock = InvalidLock;
		StorPortAcquireSpinLock(a, StartIoLock, NULL, &a->reset_outer.outer);
	} else {
		vblk_queue_lock(a, &a->q[0], ctx, &a->reset_outer);
	}
	a->started = FALSE;
	if (!vblk_device_gone(a))
		(void)virtio_reset(&a->vdev);
	for (i = 0; i < a->nq; i++) {
		struct vblk_queue *q = &a->q[i];

		if (!q->vq)
			continue;
		while ((cookie = vq_detach_unused(q->vq)) != NULL) {
			if (is_internal_cookie(q, cookie))
				continue;
			ext = cookie;
			ext->next = list;
			list = ext;
		}
	}
	if (a->removed || vblk_device_start(a)) {
		InterlockedExchange(&a->dead, 1);
		vblk_log("device could not be restarted; failing its requests\n");
	}
	vblk_queue_unlock(a, &a->reset_outer);
	for (i = nlocks; i-- > 0;)
		StorPortReleaseSpinLock(a, &a->q[i].reset_lock);
	InterlockedExchange(&a->recovering, 0);

	if (a->dead)
		status = SRB_STATUS_NO_DEVICE;
	while (list) {
		ext = list->next;
		list->done = TRUE;
		vblk_complete_srb(a, list->srb, status);
		list = ext;
	}
	/* Every ring is empty now: nothing will complete to lift a busy LUN. */
	if (!a->dump)
		lift_busy(a);
}

/* ------------------------------------------------------------ HwStartIo */
static uint16_t pick_queue(struct vblk_adapter *a, PVOID srb)
{
	STARTIO_PERFORMANCE_PARAMETERS perf;
	PROCESSOR_NUMBER pn;

	if (a->nq <= 1)
		return 0;
	if (a->perf_redirect) {
		__builtin_memset(&perf, 0, sizeof(perf));
		perf.Version = STARTIO_PERFORMANCE_PARAMETERS_VERSION_1;
		perf.Size = sizeof(perf);
		/* Message i completes queue i-1: keep submission and completion on one CPU. */
		if (StorPortGetStartIoPerfParams(a, (PSCSI_REQUEST_BLOCK)srb, &perf) ==
		    STOR_STATUS_SUCCESS && perf.MessageNumber >= 1 && perf.MessageNumber <= a->nq)
			return (uint16_t)(perf.MessageNumber - 1);
	}
	return (uint16_t)(KeGetCurrentProcessorNumberEx(&pn) % a->nq);
}

/* Dump mode: no interrupts; poll the queue until ext completes. */
static void dump_wait(struct vblk_adapter *a, struct vblk_queue *q, struct vblk_srb_ext *ext)
{
	uint32_t i;

	for (i = 0; i < VBLK_DUMP_POLLS; i++) {
		struct vblk_srb_ext *list = NULL;
		bool kick = drain_locked(a, q, &list) && vq_kick_prepare(q->vq);

		if (kick)
			vq_notify(q->vq);
		if (finish_list(a, list, ext))
			return;
		if (a->reset_pending || vblk_device_gone(a))
			break;
		StorPortStallExecution(VBLK_DUMP_STEP_US);
	}
	vblk_reset_and_recover(a, VBLK_CTX_STARTIO, SRB_STATUS_TIMEOUT);
}

/*
 * Every queue is full: hold the LUN back until one request completes
 * instead of bouncing BUSY at StorPort in a loop. If nothing is posted
 * any more (a DPC completed it all meanwhile), lift it again at once.
 */
static void signal_busy(struct vblk_adapter *a)
{
	uint16_t i;
	bool outstanding = false;

	if (a->dump || InterlockedExchange(&a->busy_signalled, 1))
		return;
	StorPortDeviceBusy(a, 0, 0, 0, 1);
	for (i = 0; i < a->nq; i++)
		if (a->q[i].nfree < a->plan.queue_size)
			outstanding = true;
	if (!outstanding)
		lift_busy(a);
}

static void submit(struct vblk_adapter *a, struct vblk_srb_ext *ext)
{
	PVOID srb = ext->srb;
	uint16_t i, first;
	int rc = VIRTIO_ENOSPC;

	if (a->reset_pending)
		vblk_reset_and_recover(a, VBLK_CTX_STARTIO, SRB_STATUS_BUS_RESET);
	if (a->removed || a->dead) {
		vblk_complete_srb(a, srb, SRB_STATUS_NO_DEVICE);
		return;
	}
	if (a->stopped) {
		/* Powered down: StorPort retries once the adapter is restarted. */
		vblk_complete_srb(a, srb, SRB_STATUS_BUSY);
		return;
	}
	first = pick_queue(a, srb);
	/* A full queue is not a reason to refuse while another has room. */
	for (i = 0; i < a->nq; i++) {
		struct vblk_queue *q = &a->q[(first + i) % a->nq];
		struct vblk_lock h;

		vblk_queue_lock(a, q, VBLK_CTX_STARTIO, &h);
		rc = a->started ? post_locked(a, q, ext) : VIRTIO_EBROKEN;
		/* Under the lock, as in the completion path: recovery may rebuild the queue. */
		if (rc == VIRTIO_OK && vq_kick_prepare(q->vq))
			vq_notify(q->vq);
		vblk_queue_unlock(a, &h);
		if (rc == VIRTIO_OK) {
			if (a->dump)
				dump_wait(a, q, ext);
			return;
		}
		if (rc != VIRTIO_ENOSPC)
			break;
	}
	switch (rc) {
	case VIRTIO_ENOSPC:
		signal_busy(a);
		vblk_complete_srb(a, srb, SRB_STATUS_BUSY);
		break;
	case VIRTIO_EBROKEN:
		/* Recover now; the class driver retries a bus-reset request. */
		vblk_complete_srb(a, srb, SRB_STATUS_BUS_RESET);
		vblk_reset_and_recover(a, VBLK_CTX_STARTIO, SRB_STATUS_BUS_RESET);
		break;
	default:
		vblk_log("request refused by the queue (%s)\n", virtio_strerror(rc));
		vblk_complete_srb(a, srb, SRB_STATUS_INVALID_REQUEST);
		break;
	}
}

void vblk_start_io(struct vblk_adapter *a, PVOID srb)
{
	struct vblk_srb_ext *ext = SrbGetMiniportContext(srb);

	switch (SrbGetSrbFunction(srb)) {
	case SRB_FUNCTION_RESET_BUS:
	case SRB_FUNCTION_RESET_DEVICE:
	case SRB_FUNCTION_RESET_LOGICAL_UNIT:
		/* virtio-blk cannot abort one request: the device reset aborts all. */
		vblk_reset_and_recover(a, VBLK_CTX_STARTIO, SRB_STATUS_BUS_RESET);
		vblk_complete_srb(a, srb, a->dead ? SRB_STATUS_NO_DEVICE : SRB_STATUS_SUCCESS);
		return;
	case SRB_FUNCTION_EXECUTE_SCSI:
	case SRB_FUNCTION_FLUSH:
	case SRB_FUNCTION_SHUTDOWN:
		if (ext && ext->srb == srb && ext->cmd.action == VBLK_ACTION_REQUEST) {
			submit(a, ext);
			return;
		}
		vblk_complete_srb(a, srb, SRB_STATUS_ERROR);
		return;
	default:
		vblk_complete_srb(a, srb, SRB_STATUS_INVALID_REQUEST);
		return;
	}
}
