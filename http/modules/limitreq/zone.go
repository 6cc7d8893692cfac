package limitreq

import (
	"strings"
	"sync"
	"sync/atomic"

	"gresty/core"
	"gresty/http/modules/shmzone"
)

// node is one key's state (ngx_http_limit_req_node_t).
type node struct {
	key  string
	last int64
	// excess is in thousandths of a request.
	excess uint64
	// count is how many requests hold the node between their lookup and
	// their accounting; such a node is not expired.
	count      uint64
	prev, next *node
}

// nodeSize is what nginx's slab gives a node: the rbtree node up to its
// color byte, the limit_req node up to its data, and the key.
func nodeSize(key int) int { return 32 + 48 + key }

// state is a zone's contents, shared by every loop; mu guards all but
// the counters.
type state struct {
	mu    sync.Mutex
	nodes map[string]*node
	// head is the most recently used node, tail the least (nginx's
	// queue).
	head, tail *node
	slab       *shmzone.Slab
	counts     [len(statusNames)]atomic.Uint64
}

// initZone is ngx_http_limit_req_init_zone: a zone kept from the
// previous configuration must keep its key.
func initZone(z, old *shmzone.Zone) error {
	lz := z.Data.(*Zone)
	if old != nil {
		if ok := old.Data.(*Zone); ok.KeyRaw != lz.KeyRaw {
			return &core.Error{Msg: "limit_req \"" + z.Name + "\" uses the \"" + lz.KeyRaw +
				"\" key while previously it used the \"" + ok.KeyRaw + "\" key"}
		}
		z.State = old.State
		return nil
	}
	st := &state{nodes: map[string]*node{}, slab: shmzone.NewSlab(z.Size)}
	// the zone's tree and queue heads and its log context come first.
	st.slab.Alloc(80)
	st.slab.Alloc(len(" in limit_req zone \"\"") + 1 + len(z.Name))
	z.State = st
	return nil
}

func (st *state) count(status int) { st.counts[status].Add(1) }

// Counts implements shmzone.Counted: the decisions by $limit_req_status
// value, lowercased.
func (st *state) Counts(f func(outcome string, n uint64)) {
	for i := 1; i < len(statusNames); i++ {
		f(strings.ToLower(statusNames[i]), st.counts[i].Load())
	}
}

// Entries implements shmzone.Counted.
func (st *state) Entries() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.nodes)
}

func (st *state) unlink(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		st.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		st.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (st *state) pushHead(n *node) {
	n.next = st.head
	if st.head != nil {
		st.head.prev = n
	} else {
		st.tail = n
	}
	st.head = n
}

// lookup is ngx_http_limit_req_lookup for one limit, under st.mu. It
// returns the outcome, the key's excess, and the node left counted when
// the outcome is rcAgain.
func (st *state) lookup(lim *limit, rate uint64, key []byte, now int64, account bool) (int, uint64, *node) {
	if n := st.nodes[string(key)]; n != nil {
		st.unlink(n)
		st.pushHead(n)
		ms := elapsed(now, n.last)
		excess := drain(n.excess, rate, ms)
		if excess > lim.burst {
			return rcBusy, excess, nil
		}
		if account {
			n.excess = excess
			if ms != 0 {
				n.last = now
			}
			return rcOK, excess, nil
		}
		n.count++
		return rcAgain, excess, n
	}
	size := nodeSize(len(key))
	st.expire(now, rate, 1)
	if !st.slab.Alloc(size) {
		st.expire(now, rate, 0)
		if !st.slab.Alloc(size) {
			return rcError, 0, nil
		}
	}
	n := &node{key: string(key)}
	st.nodes[n.key] = n
	st.pushHead(n)
	if account {
		n.last = now
		return rcOK, 0, nil
	}
	n.count = 1
	return rcAgain, 0, n
}

// expire is ngx_http_limit_req_expire: from the least recently used end,
// up to two nodes idle for a minute with nothing left to drain are
// dropped; with force (n == 0) the oldest goes first whatever its state.
// A node some request holds stops the walk.
func (st *state) expire(now int64, rate uint64, n int) {
	for n < 3 {
		lr := st.tail
		if lr == nil || lr.count != 0 {
			return
		}
		if n != 0 {
			ms := now - lr.last
			if ms < 0 {
				ms = -ms
			}
			if ms < 60000 {
				return
			}
			if int64(lr.excess-rate*uint64(ms)/1000) > 0 {
				return
			}
		}
		n++
		st.unlink(lr)
		delete(st.nodes, lr.key)
		st.slab.Free(nodeSize(len(lr.key)))
	}
}
