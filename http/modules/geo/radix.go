package geo

// radix is nginx's binary radix tree (ngx_radix_tree_t) over addresses
// of up to 128 bits: networks are paths from the root, one bit per
// level, and a lookup keeps the value of the deepest node on the
// address's path. The shape matters beyond lookups: nginx preallocates
// the first levels, and deleting a network behaves differently on a node
// with children and on a leaf, which decides when "no network ... to
// delete" is logged.
type radix struct {
	root *radixNode
}

type radixNode struct {
	left, right, parent *radixNode
	// val is nil for nginx's NGX_RADIX_NO_VALUE.
	val *geoValue
}

// preallocBits is how many levels nginx creates up front on a 64-bit
// machine with 4 KiB pages (one page of 32-byte nodes).
const preallocBits = 6

func newRadix() *radix {
	t := &radix{root: &radixNode{}}
	for depth := 1; depth <= preallocBits; depth++ {
		for k := 0; k < 1<<depth; k++ {
			var key [16]byte
			key[0] = byte(k << (8 - depth))
			t.insert(key, depth, nil)
		}
	}
	return t
}

func bitAt(key *[16]byte, i int) bool { return key[i>>3]&(0x80>>(i&7)) != 0 }

// insert puts val at the node of the first bits of key. It reports false
// (nginx's NGX_BUSY) when that node already has a value.
func (t *radix) insert(key [16]byte, bits int, val *geoValue) bool {
	node := t.root
	i := 0
	for ; i < bits; i++ {
		next := node.left
		if bitAt(&key, i) {
			next = node.right
		}
		if next == nil {
			break
		}
		node = next
	}
	if i == bits {
		if node.val != nil {
			return false
		}
		node.val = val
		return true
	}
	for ; i < bits; i++ {
		next := &radixNode{parent: node}
		if bitAt(&key, i) {
			node.right = next
		} else {
			node.left = next
		}
		node = next
	}
	node.val = val
	return true
}

// remove is ngx_radix*tree_delete: a node with children loses its value
// (false when it had none); a leaf is unlinked with every ancestor left
// empty and childless, whether or not it had a value.
func (t *radix) remove(key [16]byte, bits int) bool {
	node := t.root
	for i := 0; node != nil && i < bits; i++ {
		if bitAt(&key, i) {
			node = node.right
		} else {
			node = node.left
		}
	}
	if node == nil {
		return false
	}
	if node.left != nil || node.right != nil {
		if node.val != nil {
			node.val = nil
			return true
		}
		return false
	}
	for {
		p := node.parent
		if p == nil {
			// the root alone: nginx would follow a nil parent here; an
			// empty tree has no network to delete.
			node.val = nil
			return true
		}
		if p.right == node {
			p.right = nil
		} else {
			p.left = nil
		}
		node = p
		if node.left != nil || node.right != nil || node.val != nil || node.parent == nil {
			break
		}
	}
	return true
}

// find returns the value of the deepest node with one on the path of the
// first bits of key.
func (t *radix) find(key *[16]byte, bits int) *geoValue {
	var val *geoValue
	node := t.root
	for i := 0; node != nil; i++ {
		if node.val != nil {
			val = node.val
		}
		if i < bits && bitAt(key, i) {
			node = node.right
		} else {
			node = node.left
		}
	}
	return val
}
