/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ruby frames in the BPF unwinder: included by profile.bpf.c after struct uw_state (types in
 * bpf/ruby.h). A control frame is read at once (64 bytes in 3.1); its flags (ep[0]) and method
 * entry (ep[-2]) are a second read; a method frame adds a map lookup (ruby_methods, for its
 * class's name); a frame with an iseq two more (iseq->body, body->iseq_encoded) for the
 * instruction index of its pc.
 *
 * Which thread: Ruby runs Ruby code only in the thread holding its ractor's GVL, and
 * rb_ractor_t.threads.running_ec is that thread's execution context. Its frames are this
 * sample's only when the sampled task is that thread: ec->thread_ptr->tid (rb_thread_t.tid,
 * the Linux thread id Thread#native_thread_id returns) must be the task's pid. A thread running
 * C code with the GVL released (rb_nogvl: zlib, I/O) is on the CPU too, with rb_vm_exec in its
 * native stack; the running ec is another thread's then, and would give it that thread's
 * frames. Its own ec is its rb_thread_t's (found once in the ractor's thread list, or when
 * sampled holding the GVL, and kept in ruby_thread_ecs), used only while it is still its
 * thread's current one (thread_ptr->ec, which a Fiber switch changes, and thread_ptr->tid):
 * its frames stand still while it has no GVL. (The TLS variable
 * ruby_current_ec would be this thread's own ec at once, but libruby's static TLS offset is
 * glibc-internal: not used.) Only while ruby_single_main_ractor is set (no second Ractor):
 * with several, which one runs is not known here, and Ruby frames are left out.
 */

/* Ruby processes (src/runtime/ruby.c): where the main ractor pointer is and the layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct ruby_proc);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ruby_procs SEC(".maps");

/*
 * Thread id -> its ec (checked again at use), or RB_NOT_RUBY: a thread of the process not in
 * its ractor's thread list (a native thread of a library), not looked for at every sample.
 */
#define RB_NOT_RUBY 1ULL
#define RB_MAX_THREADS 32	/* threads of the list looked at */
/* An LRU map is allocated whole: 4096 threads, as py_threads (one evicted is looked for again). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4096);
} ruby_thread_ecs SEC(".maps");

/*
 * Method iseq -> its method entry, added the first time a frame runs it (user space deletes one
 * that did not read as a method entry, and a process's when it exits). Allocated as it fills.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct ruby_method_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ruby_methods SEC(".maps");

#define RB_CFP_READ 64	/* rb_control_frame_t (3.1: 8 words, jit_return last) */
#define RB_BUF_U64(st, off) (*(__u64 *)((st)->rb_buf + ((off) & 63)))

#define RB_EC_READ 56	/* rb_execution_context_t up to thread_ptr (3.1: 48 + 8) */
#define RB_TH_READ 56	/* rb_thread_t from .ec to past .tid (3.1: 40 .. 92) */

/*
 * Reads ec: its control frames' bounds into w[0..2] (vm_stack, vm_stack_size, cfp), its
 * thread's current ec and tid into *th_ec, *tid. 0, or -1 when a read failed. rb_buf is the
 * scratch of both reads (a variable offset into the BPF stack must be aligned; into a map
 * value it need not).
 */
static __always_inline int ruby_read_ec(struct uw_state *st, struct ruby_proc *rb, __u64 ec,
					__u64 *w, __u64 *th_ec, __s32 *tid)
{
	__u64 th;

	if (bpf_probe_read_user(st->rb_buf, RB_EC_READ, (void *)ec))
		return -1;
	w[0] = RB_BUF_U64(st, 0);
	w[1] = RB_BUF_U64(st, 8);
	w[2] = RB_BUF_U64(st, 16);
	th = RB_BUF_U64(st, rb->off.ec_thread);
	if (!th || bpf_probe_read_user(st->rb_buf, RB_TH_READ, (void *)(th + rb->off.th_ec)))
		return -1;
	*th_ec = RB_BUF_U64(st, 0);
	*tid = *(__s32 *)(st->rb_buf + ((rb->off.th_tid - rb->off.th_ec) & 63));
	return 0;
}

/*
 * The ec of thread tid, from the ractor's thread list (rb_ractor_t.threads.set, whose nodes are
 * the rb_thread_t: lt_node first); RB_NOT_RUBY when it is not there, 0 when a read failed.
 */
__noinline __u64 ruby_find_ec(struct uw_state *st, __u64 ractor, __u32 tid)
{
	struct ruby_offsets *off;
	__u64 head, node, ec;
	__u32 i;

	if (!st)
		return 0;
	off = &st->rb_off;
	head = ractor + off->ractor_threads;
	node = user_u64(head);
	for (i = 0; i < RB_MAX_THREADS; i++) {
		if (!node)
			return 0;
		if (node == head)
			return RB_NOT_RUBY;
		if (bpf_probe_read_user(st->rb_buf, RB_TH_READ, (void *)(node + off->th_ec)))
			return 0;
		ec = RB_BUF_U64(st, 0);
		if (*(__u32 *)(st->rb_buf + ((off->th_tid - off->th_ec) & 63)) == tid)
			return ec;
		node = user_u64(node);
	}
	return 0;	/* more threads than looked at: not known */
}

/*
 * Sets up the Ruby part of st for the current task's stack: the control frame to start from
 * (rb_next) and the end of the control frames, from this thread's ec.
 */
static __always_inline void ruby_begin(struct uw_state *st, __u32 tgid)
{
	struct ruby_proc *rb = bpf_map_lookup_elem(&ruby_procs, &tgid);
	__u32 cur = (__u32)bpf_get_current_pid_tgid();
	__u64 ractor, ec, th_ec = 0, *mine, w[3];
	__s32 tid = -1;

	st->rb_next = 0;
	st->rb_end = 0;
	st->rb_frames = 0;
	st->rb_active = 0;
	st->rb_exec_start = 0;
	st->rb_exec_end = 0;
	st->rb_tgid = tgid;
	if (!rb)
		return;
	ractor = user_u64(rb->main_ractor);
	if (!ractor)
		return;
	ec = user_u64(ractor + rb->off.ractor_running_ec);
	if (!ec || ruby_read_ec(st, rb, ec, w, &th_ec, &tid)) {
		stat_inc(STAT_RUBY_READ);
		return;
	}
	if (tid == (__s32)cur) {
		/* This thread holds the GVL: remember its ec for when it has not. */
		mine = bpf_map_lookup_elem(&ruby_thread_ecs, &cur);
		if (!mine || *mine != ec)
			bpf_map_update_elem(&ruby_thread_ecs, &cur, &ec, BPF_ANY);
	} else {
		mine = bpf_map_lookup_elem(&ruby_thread_ecs, &cur);
		if (mine) {
			ec = *mine;
		} else {
			st->rb_off = rb->off;
			ec = ruby_find_ec(st, ractor, cur);
			if (ec)
				bpf_map_update_elem(&ruby_thread_ecs, &cur, &ec, BPF_ANY);
		}
		if (ec <= RB_NOT_RUBY || ruby_read_ec(st, rb, ec, w, &th_ec, &tid) ||
		    tid != (__s32)cur || th_ec != ec) {
			/* Stale (a Fiber switched to, the tid reused): looked for again next time. */
			if (ec > RB_NOT_RUBY)
				bpf_map_delete_elem(&ruby_thread_ecs, &cur);
			stat_inc(STAT_RUBY_NOT_RUNNING);
			return;
		}
	}
	/*
	 * rb_execution_context_t { VALUE *vm_stack; size_t vm_stack_size; cfp; } (vm_core.h);
	 * RUBY_VM_END_CONTROL_FRAME: vm_stack + vm_stack_size VALUEs; frames grow down to cfp.
	 */
	if (w[1] > (1ULL << 28) || w[2] < w[0] || w[2] >= w[0] + w[1] * 8)
		return;
	st->rb_next = w[2];
	st->rb_end = w[0] + w[1] * 8;
	st->rb_exec_start = rb->exec_start;
	st->rb_exec_end = rb->exec_end;
	st->rb_off = rb->off;
}

/* 1 when pc is in rb_vm_exec: its Ruby frames are emitted from the next step on. */
__noinline int ruby_enter(struct uw_state *st, __u64 pc)
{
	if (!st || pc < st->rb_exec_start || pc >= st->rb_exec_end)
		return 0;
	st->py_cur = st->rb_next;
	st->rb_next = 0;
	st->php_active = 0;
	st->pl_active = 0;
	st->rb_active = 1;
	return 1;
}

/*
 * Emits the control frame st->py_cur (the interpreters' shared cursor) when it runs an iseq,
 * and moves to its caller (cfp + 1): in the same activation of rb_vm_exec (py_cur), or, past
 * a FINISH frame, the next one (rb_next). C frames (cfunc, ifunc: VM_FRAME_FLAG_CFRAME) and
 * dummy frames are left out.
 */
__noinline int ruby_step(struct uw_state *st)
{
	struct ruby_offsets *off;
	struct ruby_method_key mk;
	__u64 cfp, pc, iseq, ep, body, enc, next, p, flags, me, mflags, idx = 0;
	__u32 n;
	long err;

	if (!st)
		return 0;
	cfp = st->py_cur;
	n = st->stack.n;
	st->py_cur = 0;
	off = &st->rb_off;
	if (n >= MAX_STACK_DEPTH || cfp >= st->rb_end)
		return 0;
	if (bpf_probe_read_user(st->rb_buf, RB_CFP_READ, (void *)cfp)) {
		stat_inc(STAT_RUBY_READ);
		st->rb_next = 0;
		return 0;
	}
	pc = RB_BUF_U64(st, off->cfp_pc);
	iseq = RB_BUF_U64(st, off->cfp_iseq);
	ep = RB_BUF_U64(st, off->cfp_ep);
	next = cfp + off->cfp_size;
	/* ep[-2] (the method entry) and ep[0] (the flags) in one read: ep[-1] between them. */
	if (!ep || bpf_probe_read_user(st->rb_buf, 24, (void *)(ep - 16))) {
		stat_inc(STAT_RUBY_READ);
		st->rb_next = 0;
		return 0;
	}
	me = RB_BUF_U64(st, 0);
	flags = RB_BUF_U64(st, 16);
	if (!iseq || (flags & RUBY_FRAME_FLAG_CFRAME) ||
	    (flags & RUBY_FRAME_MAGIC_MASK) == RUBY_FRAME_MAGIC_DUMMY)
		goto caller;
	if ((flags & RUBY_FRAME_MAGIC_MASK) == RUBY_FRAME_MAGIC_METHOD && me) {
		/* Once per method: a lookup a method frame, an update the first time. */
		mk.tgid = st->rb_tgid;
		mk.pad = 0;
		mk.iseq = iseq;
		if (!bpf_map_lookup_elem(&ruby_methods, &mk)) {
			/*
			 * An svar (T_IMEMO 0x1a, imemo type 2 in bits 12..15: the method set $~)
			 * dies with its frame, and is often collected before the name is read;
			 * the method entry it holds (at 8) lives as long as the method.
			 */
			if (!bpf_probe_read_user(&mflags, 8, (void *)me) && (mflags & 0x1f) == 0x1a &&
			    (mflags >> 12 & 0xf) == 2 && bpf_probe_read_user(&me, 8, (void *)(me + 8)))
				me = 0;
			/*
			 * Full, or no memory at hand in this context: the method stays unqualified
			 * (-EEXIST: another CPU stored it first).
			 */
			if (me) {
				err = bpf_map_update_elem(&ruby_methods, &mk, &me, BPF_NOEXIST);
				if (err && err != -EEXIST)
					stat_inc(STAT_RUBY_METHODS_LOST);
			}
		}
	}
	body = user_u64(iseq + off->iseq_body);
	enc = body ? user_u64(body + off->body_encoded) : 0;
	if (enc && pc >= enc && pc - enc < 0xffffULL * 8)
		idx = (pc - enc) / 8;
	p = RUBY_FRAME(iseq, idx);
	st->stack.ips[n & 127] = p;
	st->stack.n = n + 1;
	st->hash = (st->hash ^ p) * 0x100000001b3ULL;
	st->hash ^= st->hash >> 29;
	st->rb_frames++;
caller:
	if (flags & RUBY_FRAME_FLAG_FINISH)
		st->rb_next = next;	/* the first frame of this activation of rb_vm_exec */
	else
		st->py_cur = next;
	return 0;
}
