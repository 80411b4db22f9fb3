/*
 * netchange collector hot path in C (optional): the common sFlow v5 datagram -> history keys.
 *
 * scan(buf, off, name) handles a datagram whose every sample is a flow sample of the common layout
 * (first record the raw header of an untagged Ethernet/IPv4 packet with a 20-byte header, optionally after
 * an extended switch record; then only extended switch or unknown records) and returns
 * (sub_agent, sequence, [(key, rate, frame_length)], {source index: drops}), with keys exactly as
 * fastpath._scan builds them.  For anything else, including anything malformed, it returns None and the
 * Python scan decides (it is the reference; tests/telemetry/test_fastpath.py compares both).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *ING, *EGR;

#define MAXSRC 64  /* distinct (source, direction) pairs in one datagram taken here */

static inline uint32_t be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint32_t be16(const unsigned char *p)
{
	return ((uint32_t)p[0] << 8) | p[1];
}

/* One validated common sample: where its fields are. */
struct sample {
	const unsigned char *flow;   /* flow sample fields (after format and length) */
	const unsigned char *hdr;    /* the sampled Ethernet header */
};

/* Pass 1: checks every sample of the datagram; 1 when all are of the common layout, 0 otherwise (then the
 * Python scan decides).  Fills sub-agent, sequence and the samples (caller frees *out). */
static int validate(const unsigned char *b, Py_ssize_t end, Py_ssize_t off, uint32_t *sub, uint32_t *dseq,
		    struct sample **out, uint32_t *count, uint64_t *pairs, int *pairs_out)
{
	*out = NULL;
	if (off < 0 || off + 16 > end)
		return 0;
	*sub = be32(b + off);
	*dseq = be32(b + off + 4);
	uint32_t n = be32(b + off + 12);
	off += 16;
	if ((uint64_t)n * 8 > (uint64_t)(end - off))
		return 0;
	struct sample *s = PyMem_Malloc(sizeof(*s) * (n ? n : 1));
	int npairs = *pairs_out;  /* pairs[] may already hold those of earlier datagrams of the call */
	if (!s)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (off + 8 > end)
			goto no;
		uint32_t fmt = be32(b + off), length = be32(b + off + 4);
		off += 8;
		Py_ssize_t send = off + (Py_ssize_t)length;
		if (send > end || (length & 3) || fmt != 1 || off + 32 > send)
			goto no;
		const unsigned char *f = b + off;
		uint32_t nrec = be32(f + 28);
		Py_ssize_t r = off + 32;
		uint32_t done = 1;
		if (r + 8 > end)
			goto no;
		uint32_t rfmt = be32(b + r), rlen = be32(b + r + 4);
		if (rfmt == 1001 && rlen == 16) {
			r += 24;
			done = 2;
			if (r + 8 > end)
				goto no;
			rfmt = be32(b + r);
			rlen = be32(b + r + 4);
		}
		Py_ssize_t rstart = r + 8, rend = rstart + (Py_ssize_t)rlen;
		if (rfmt != 1 || rstart + 16 > end)
			goto no;
		uint32_t hproto = be32(b + rstart), hlen = be32(b + rstart + 12);
		if (hproto != 1 || hlen < 38 || hlen > 1024 || rstart + 16 + (Py_ssize_t)hlen > rend || rend > send)
			goto no;
		if (done > nrec || (uint64_t)nrec * 8 > (uint64_t)(send - off - 32))
			goto no;
		const unsigned char *h = b + rstart + 16;
		if (be16(h + 12) != 0x0800 || h[14] != 0x45 || (be16(h + 20) & 0x1FFF))
			goto no;
		Py_ssize_t o = rend;
		for (uint32_t k = done; k < nrec; k++) {
			if (o + 8 > send)
				goto no;
			uint32_t f2 = be32(b + o), l2 = be32(b + o + 4);
			o += 8 + (Py_ssize_t)l2;
			if (o > send || (f2 == 1001 && l2 < 16) || f2 == 1 || f2 == 3 || f2 == 4 || f2 == 1002)
				goto no;
		}
		if (send - o >= 8)
			goto no;
		s[i].flow = f;
		s[i].hdr = h;
		/* at most MAXSRC distinct (source, direction) pairs a datagram here; more go to Python */
		uint32_t index = be32(f + 4) & 0xFFFFFF, inp = be32(f + 20), outp = be32(f + 24);
		uint64_t pair = ((uint64_t)index << 2) | (inp < 0x40000000 && inp == index ? 1 : outp < 0x40000000 && outp == index ? 2 : 0);
		int j = 0;
		while (j < npairs && pairs[j] != pair)
			j++;
		if (j == npairs) {
			if (npairs == MAXSRC)
				goto no;
			pairs[npairs++] = pair;
		}
		off = send;
	}
	*out = s;
	*count = n;
	*pairs_out = npairs;
	return 1;
no:
	PyMem_Free(s);
	return 0;
}

struct srcsum {
	uint32_t index;
	int dir;
	unsigned long long samples, packets, bytes;
};

static PyObject *direction_of(uint32_t index, uint32_t inp, uint32_t outp)
{
	if (inp < 0x40000000 && inp == index)
		return ING;
	if (outp < 0x40000000 && outp == index)
		return EGR;
	return Py_None;
}

/* The key's detail: TCP flags (when the cut header reaches them), ICMP type * 256 + code; -1: none. */
static long detail_of(const unsigned char *h)
{
	unsigned proto = h[23];
	if (proto == 6)
		return be32(h - 4) >= 48 ? (long)h[47] : -1;  /* header length (before the header) >= 14 + 20 + 14 */
	if (proto == 1)
		return (long)be16(h + 34);
	return -1;
}

/* The history key of one sample, exactly as fastpath._scan builds it. */
static PyObject *make_key(PyObject *name, const struct sample *sm)
{
	const unsigned char *f = sm->flow, *h = sm->hdr;
	uint32_t index = be32(f + 4) & 0xFFFFFF, inp = be32(f + 20), outp = be32(f + 24);
	unsigned proto = h[23];
	PyObject *direction = direction_of(index, inp, outp);
	int ported = proto == 6 || proto == 17;
	long detail = detail_of(h);
	/* N: the new references of ports, output ifindex and detail are handed over */
	return Py_BuildValue("(OkOy#y#INNNON)", name, (unsigned long)index, direction, (const char *)h + 26, (Py_ssize_t)4,
			     (const char *)h + 30, (Py_ssize_t)4, proto,
			     ported ? PyLong_FromUnsignedLong(be16(h + 34)) : (Py_INCREF(Py_None), Py_None),
			     ported ? PyLong_FromUnsignedLong(be16(h + 36)) : (Py_INCREF(Py_None), Py_None),
			     outp < 0x40000000 ? PyLong_FromUnsignedLong(outp) : (Py_INCREF(Py_None), Py_None), Py_None,
			     detail >= 0 ? PyLong_FromLong(detail) : (Py_INCREF(Py_None), Py_None));
}

/* scan(buf, off, name) -> (sub_agent, sequence, [(key, rate, frame_length)], {index: drops}) or None */
static PyObject *scan(PyObject *self, PyObject *args)
{
	Py_buffer view;
	Py_ssize_t off;
	PyObject *name;
	if (!PyArg_ParseTuple(args, "y*nO", &view, &off, &name))
		return NULL;
	struct sample *s;
	uint32_t sub, dseq, n;
	uint64_t pairs[MAXSRC];
	int npairs = 0;
	int ok = validate(view.buf, view.len, off, &sub, &dseq, &s, &n, pairs, &npairs);
	if (ok <= 0) {
		PyBuffer_Release(&view);
		if (ok < 0)
			return PyErr_NoMemory();
		Py_RETURN_NONE;
	}
	PyObject *flows = PyList_New(n), *drops = PyDict_New();
	if (!flows || !drops)
		goto error;
	for (uint32_t i = 0; i < n; i++) {
		PyObject *key = make_key(name, &s[i]);
		if (!key)
			goto error;
		uint32_t rate = be32(s[i].flow + 8), flen = be32(s[i].hdr - 12);
		PyList_SET_ITEM(flows, i, Py_BuildValue("(NkI)", key, (unsigned long)rate, flen));
		PyObject *ki = PyLong_FromUnsignedLong(be32(s[i].flow + 4) & 0xFFFFFF), *dv = PyLong_FromUnsignedLong(be32(s[i].flow + 16));
		int rc = (ki && dv) ? PyDict_SetItem(drops, ki, dv) : -1;
		Py_XDECREF(ki);
		Py_XDECREF(dv);
		if (rc < 0)
			goto error;
	}
	PyMem_Free(s);
	PyBuffer_Release(&view);
	return Py_BuildValue("(kkNN)", (unsigned long)sub, (unsigned long)dseq, flows, drops);
error:
	Py_XDECREF(flows);
	Py_XDECREF(drops);
	PyMem_Free(s);
	PyBuffer_Release(&view);
	return NULL;
}

static int add_to(PyObject *list, Py_ssize_t i, unsigned long long v)
{
	PyObject *old = PyList_GET_ITEM(list, i);
	PyObject *inc = PyLong_FromUnsignedLongLong(v);
	if (!inc)
		return -1;
	PyObject *sum = PyNumber_Add(old, inc);
	Py_DECREF(inc);
	if (!sum)
		return -1;
	return PyList_SetItem(list, i, sum);
}

/* One distinct history key of a call, aggregated in C before it meets the Python dict. */
struct ent {
	const struct sample *first;    /* the sample the key is built from */
	uint64_t h;
	unsigned long long samples, packets, bytes;
	uint32_t rate;                 /* the latest sample's */
	int used;
	unsigned char k[28];           /* key_fields() */
};

/* The raw fields that make the key: index, direction code, addresses, protocol, ports if ported, out_if,
 * detail (present flag, value). */
static void key_fields(const struct sample *sm, unsigned char out[28])
{
	const unsigned char *f = sm->flow, *h = sm->hdr;
	uint32_t index = be32(f + 4) & 0xFFFFFF, inp = be32(f + 20), outp = be32(f + 24);
	unsigned proto = h[23];
	memset(out, 0, 28);
	memcpy(out, f + 5, 3);                                         /* index */
	out[3] = (inp < 0x40000000 && inp == index) ? 1 : (outp < 0x40000000 && outp == index) ? 2 : 0;
	memcpy(out + 4, h + 26, 8);                                    /* src, dst */
	out[12] = (unsigned char)proto;
	if (proto == 6 || proto == 17)
		memcpy(out + 13, h + 34, 4);                           /* ports */
	out[17] = outp < 0x40000000;
	if (out[17])
		memcpy(out + 18, f + 24, 4);
	long detail = detail_of(h);
	out[22] = detail >= 0;
	if (detail >= 0) {
		out[23] = (unsigned char)(detail >> 8);
		out[24] = (unsigned char)(detail & 0xFF);
	}
}

static uint64_t hash_key(const unsigned char k[28])
{
	uint64_t x = 1469598103934665603ULL;
	for (int i = 0; i < 28; i++)
		x = (x ^ k[i]) * 1099511628211ULL;
	return x;
}

/* The validated datagrams of one call. */
struct dg {
	struct sample *s;
	uint32_t n, sub, seq;
};

/* Adds the samples of `dgs` to `table` (key -> [samples, packets, bytes, rate]); keys not in it are listed
 * in `fresh` as (key, samples, packets, bytes, rate) in order of first appearance. */
static int aggregate(PyObject *name, struct dg *dgs, int ndg, PyObject *table, PyObject *fresh,
		     struct srcsum *src, int *nsrc, uint32_t (*drp)[2], int *ndrp, unsigned long long *total)
{
	size_t count = 0;
	for (int d = 0; d < ndg; d++)
		count += dgs[d].n;
	size_t cap = 16;
	while (cap < 2 * count)
		cap <<= 1;
	struct ent *tab = PyMem_Calloc(cap, sizeof(*tab));
	struct ent **order = PyMem_Malloc(sizeof(*order) * (count ? count : 1));
	size_t norder = 0;
	int rc = -1;
	if (!tab || !order) {
		PyErr_NoMemory();
		goto out;
	}
	for (int d = 0; d < ndg; d++) {
		for (uint32_t i = 0; i < dgs[d].n; i++) {
			const struct sample *sm = &dgs[d].s[i];
			const unsigned char *f = sm->flow;
			uint32_t index = be32(f + 4) & 0xFFFFFF, rate = be32(f + 8), flen = be32(sm->hdr - 12);
			unsigned char k[28];
			key_fields(sm, k);
			uint64_t h = hash_key(k);
			size_t slot = h & (cap - 1);
			struct ent *e = NULL;
			for (;;) {
				struct ent *c = &tab[slot];
				if (!c->used) {
					c->used = 1;
					c->h = h;
					c->first = sm;
					memcpy(c->k, k, 28);
					c->samples = c->packets = c->bytes = 0;
					order[norder++] = c;
					e = c;
					break;
				}
				if (c->h == h && memcmp(c->k, k, 28) == 0) {
					e = c;
					break;
				}
				slot = (slot + 1) & (cap - 1);
			}
			e->samples += 1;
			e->packets += rate;
			e->bytes += (unsigned long long)rate * flen;
			e->rate = rate;
			int dir = k[3];
			int j = 0;
			while (j < *nsrc && !(src[j].index == index && src[j].dir == dir))
				j++;
			if (j == *nsrc) {  /* room was checked while validating */
				src[j].index = index;
				src[j].dir = dir;
				src[j].samples = src[j].packets = src[j].bytes = 0;
				(*nsrc)++;
			}
			src[j].samples += 1;
			src[j].packets += rate;
			src[j].bytes += (unsigned long long)rate * flen;
			int q = 0;  /* drops: the last sample of each source index wins, as in the Python scan */
			while (q < *ndrp && drp[q][0] != index)
				q++;
			if (q == *ndrp) {
				drp[q][0] = index;
				(*ndrp)++;
			}
			drp[q][1] = be32(f + 16);
			(*total)++;
		}
	}
	for (size_t i = 0; i < norder; i++) {
		struct ent *e = order[i];
		PyObject *key = make_key(name, e->first);
		if (!key)
			goto out;
		PyObject *v = PyDict_GetItemWithError(table, key);
		if (v && PyList_Check(v) && PyList_GET_SIZE(v) == 4) {
			int bad = add_to(v, 0, e->samples) < 0 || add_to(v, 1, e->packets) < 0 || add_to(v, 2, e->bytes) < 0
				  || PyList_SetItem(v, 3, PyLong_FromUnsignedLong(e->rate)) < 0;
			Py_DECREF(key);
			if (bad)
				goto out;
		} else {
			if (PyErr_Occurred()) {
				Py_DECREF(key);
				goto out;
			}
			PyObject *item = Py_BuildValue("(NKKKk)", key, e->samples, e->packets, e->bytes, (unsigned long)e->rate);
			if (!item || PyList_Append(fresh, item) < 0) {
				Py_XDECREF(item);
				goto out;
			}
			Py_DECREF(item);
		}
	}
	rc = 0;
out:
	PyMem_Free(tab);
	PyMem_Free(order);
	return rc;
}

/* (drops {index: drops}, sources {(index, direction): [samples, packets, bytes]}) */
static int finish(struct srcsum *src, int nsrc, uint32_t (*drp)[2], int ndrp, PyObject **drops, PyObject **sources)
{
	*drops = PyDict_New();
	*sources = PyDict_New();
	if (!*drops || !*sources)
		return -1;
	for (int d = 0; d < ndrp; d++) {
		PyObject *ki = PyLong_FromUnsignedLong(drp[d][0]), *dv = PyLong_FromUnsignedLong(drp[d][1]);
		int rc = (ki && dv) ? PyDict_SetItem(*drops, ki, dv) : -1;
		Py_XDECREF(ki);
		Py_XDECREF(dv);
		if (rc < 0)
			return -1;
	}
	for (int j = 0; j < nsrc; j++) {
		PyObject *dirobj = src[j].dir == 1 ? ING : src[j].dir == 2 ? EGR : Py_None;
		PyObject *sk = Py_BuildValue("(kO)", (unsigned long)src[j].index, dirobj);
		PyObject *t = Py_BuildValue("[KKK]", src[j].samples, src[j].packets, src[j].bytes);
		int rc = (sk && t) ? PyDict_SetItem(*sources, sk, t) : -1;
		Py_XDECREF(sk);
		Py_XDECREF(t);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* scan_many(datagrams, off, name, table) -> (taken, samples, fresh, drops, sources, [(sub_agent, sequence)])
 * The leading datagrams of the list (bytes from one agent, for one history bucket) that are all of the
 * common layout, validated whole, then added to `table` (key -> [samples, packets, bytes, rate]); keys
 * not in it come back in `fresh` as (key, samples, packets, bytes, rate).  `taken` says how many
 * datagrams were taken: the next one is the caller's (the Python scan decides it). */
static PyObject *scan_many(PyObject *self, PyObject *args)
{
	PyObject *list, *name, *table, *drops = NULL, *sources = NULL, *seqs = NULL, *fresh = NULL;
	Py_ssize_t off;
	if (!PyArg_ParseTuple(args, "O!nOO!", &PyList_Type, &list, &off, &name, &PyDict_Type, &table))
		return NULL;
	Py_ssize_t total = PyList_GET_SIZE(list), taken = 0;
	struct dg *dgs = PyMem_Malloc(sizeof(*dgs) * (total ? total : 1));
	struct srcsum src[MAXSRC];
	uint32_t drp[MAXSRC][2];
	int nsrc = 0, ndrp = 0, npairs = 0;
	uint64_t pairs[MAXSRC];
	unsigned long long samples = 0;
	if (!dgs)
		return PyErr_NoMemory();
	for (; taken < total; taken++) {
		PyObject *item = PyList_GET_ITEM(list, taken);
		if (!PyBytes_Check(item))
			break;
		struct dg *g = &dgs[taken];
		/* distinct (source, direction) pairs of the whole call stay within MAXSRC, or the datagram waits */
		int ok = validate((const unsigned char *)PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item), off, &g->sub, &g->seq,
				  &g->s, &g->n, pairs, &npairs);
		if (ok < 0) {
			PyErr_NoMemory();
			goto error;
		}
		if (ok == 0)
			break;
	}
	fresh = PyList_New(0);
	seqs = PyList_New(taken);
	if (!fresh || !seqs)
		goto error;
	for (Py_ssize_t i = 0; i < taken; i++)
		PyList_SET_ITEM(seqs, i, Py_BuildValue("(kk)", (unsigned long)dgs[i].sub, (unsigned long)dgs[i].seq));
	if (aggregate(name, dgs, (int)taken, table, fresh, src, &nsrc, drp, &ndrp, &samples) < 0
	    || finish(src, nsrc, drp, ndrp, &drops, &sources) < 0)
		goto error;
	for (Py_ssize_t i = 0; i < taken; i++)
		PyMem_Free(dgs[i].s);
	PyMem_Free(dgs);
	return Py_BuildValue("(nKNNNN)", taken, samples, fresh, drops, sources, seqs);
error:
	for (Py_ssize_t i = 0; i < taken; i++)
		PyMem_Free(dgs[i].s);
	PyMem_Free(dgs);
	Py_XDECREF(fresh);
	Py_XDECREF(drops);
	Py_XDECREF(sources);
	Py_XDECREF(seqs);
	return NULL;
}

/* pcap_udp(chunk, little_endian, nanoseconds, port) -> ([(ts, src4 bytes, payload bytes)], consumed)
 * Classic pcap records of Ethernet/IPv4 (no options, not fragmented)/UDP frames to `port` in a chunk of the
 * file (after its global header); stops at the first incomplete record.  Any other frame is returned as
 * (ts, None, frame) for the general Python path. */
static PyObject *pcap_udp(PyObject *self, PyObject *args)
{
	Py_buffer view;
	int little, nano;
	unsigned int port;
	if (!PyArg_ParseTuple(args, "y*ppI", &view, &little, &nano, &port))
		return NULL;
	const unsigned char *b = view.buf;
	Py_ssize_t end = view.len, off = 0;
	PyObject *out = PyList_New(0);
	if (!out)
		goto error;
	while (off + 16 <= end) {
		const unsigned char *r = b + off;
		uint32_t sec, frac, incl;
		if (little) {
			sec = r[0] | r[1] << 8 | r[2] << 16 | (uint32_t)r[3] << 24;
			frac = r[4] | r[5] << 8 | r[6] << 16 | (uint32_t)r[7] << 24;
			incl = r[8] | r[9] << 8 | r[10] << 16 | (uint32_t)r[11] << 24;
		} else {
			sec = be32(r);
			frac = be32(r + 4);
			incl = be32(r + 8);
		}
		if (incl > 256 * 1024)
			break; /* damaged: the Python reader reports it */
		if (off + 16 + (Py_ssize_t)incl > end)
			break;
		const unsigned char *fr = r + 16;
		double ts = sec + frac * (nano ? 1e-9 : 1e-6);
		PyObject *item;
		if (incl >= 42 && be16(fr + 12) == 0x0800 && fr[14] == 0x45 && !(be16(fr + 20) & 0x1FFF)) {
			off += 16 + incl;
			if (fr[23] != 17 || be16(fr + 36) != port)
				continue;
			uint32_t ulen = be16(fr + 38);
			Py_ssize_t pend = 34 + (ulen < 8 ? 8 : ulen);
			if (pend > (Py_ssize_t)incl)
				pend = incl;
			item = Py_BuildValue("(dy#y#)", ts, (const char *)fr + 26, (Py_ssize_t)4, (const char *)fr + 42,
					     pend - 42 > 0 ? pend - 42 : 0);
		} else {
			off += 16 + incl;
			item = Py_BuildValue("(dOy#)", ts, Py_None, (const char *)fr, (Py_ssize_t)incl);
		}
		if (!item || PyList_Append(out, item) < 0) {
			Py_XDECREF(item);
			goto error;
		}
		Py_DECREF(item);
	}
	PyBuffer_Release(&view);
	return Py_BuildValue("(Nn)", out, off);
error:
	Py_XDECREF(out);
	PyBuffer_Release(&view);
	return NULL;
}

static PyMethodDef methods[] = {
	{"scan", scan, METH_VARARGS, "common sFlow datagram -> (sub_agent, sequence, flows, drops), or None"},
	{"scan_many", scan_many, METH_VARARGS, "the leading common datagrams of a list added to a history bucket"},
	{"pcap_udp", pcap_udp, METH_VARARGS, "UDP datagrams of a chunk of classic pcap records"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_netchange_fastscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__netchange_fastscan(void)
{
	ING = PyUnicode_InternFromString("ingress");
	EGR = PyUnicode_InternFromString("egress");
	if (!ING || !EGR)
		return NULL;
	return PyModule_Create(&module);
}
