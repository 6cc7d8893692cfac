package lua

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"

	glua "github.com/yuin/gopher-lua"

	"gresty/luavm"
)

// This file is lua-resty-string's resty.aes in Go: AES-128/192/256 in
// ECB, CBC, CFB1, CFB8, CFB128, OFB, CTR and GCM modes, keys derived with
// OpenSSL's EVP_BytesToKey (or given raw with an IV), PKCS#7 padding for
// the block modes unless disabled. Every encrypt and decrypt call starts
// from the object's key and IV, as the original re-initialises its
// OpenSSL contexts on each call.

func init() { registerAPI(installAES) }

// aesMode is an OpenSSL EVP_aes_<size>_<mode> cipher.
type aesMode struct {
	keyLen int
	mode   string
	// ivLen is EVP_CIPHER_iv_length, what EVP_BytesToKey derives.
	ivLen int
}

// aesHashes are the digests of resty.aes's hash table.
var aesHashes = []struct {
	name  string
	newFn func() hash.Hash
}{
	{"md5", md5.New}, {"sha1", sha1.New}, {"sha224", sha256.New224},
	{"sha256", sha256.New}, {"sha384", sha512.New384}, {"sha512", sha512.New},
}

// aesObject is the key material behind an object made by new.
type aesObject struct {
	mode    aesMode
	key     []byte
	iv      []byte // the IV buffer: keyLen bytes, zero-padded
	ivLen   int    // the IV length GCM uses
	padding bool
}

func installAES(st *loopState) {
	st.vm.Preload("resty.aes", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("_VERSION", glua.LString(restyStringVersion))
		mt := L.CreateTable(0, 1)
		mt.RawSetString("__index", m)

		hashes := L.CreateTable(0, len(aesHashes))
		for _, h := range aesHashes {
			ud := L.NewUserData()
			ud.Value = h.newFn
			hashes.RawSetString(h.name, ud)
		}
		m.RawSetString("hash", hashes)

		cipherFn := L.NewFunction(func(L *glua.LState) int {
			size := L.Get(1)
			if size == glua.LNil {
				size = glua.LNumber(128)
			}
			mode := L.Get(2)
			if mode == glua.LNil || mode == glua.LFalse {
				mode = glua.LString("cbc")
			}
			name := "EVP_aes_" + concatPiece(L, size) + "_" + concatPiece(L, mode)
			spec, ok := aesModeByName(name)
			if !ok {
				raise(L, "missing declaration for symbol '"+name+"'")
			}
			ud := L.NewUserData()
			ud.Value = spec
			t := L.CreateTable(0, 3)
			t.RawSetString("size", size)
			t.RawSetString("cipher", mode)
			t.RawSetString("method", ud)
			L.Push(t)
			return 1
		})
		m.RawSetString("cipher", cipherFn)

		m.RawSetString("new", L.NewFunction(func(L *glua.LState) int {
			return newAES(L, mt, cipherFn)
		}))
		m.RawSetString("encrypt", L.NewFunction(func(L *glua.LState) int { return aesCrypt(L, true) }))
		m.RawSetString("decrypt", L.NewFunction(func(L *glua.LState) int { return aesCrypt(L, false) }))
		L.Push(m)
		return 1
	})
}

// concatPiece is a value as the .. operator turns it into text.
func concatPiece(L *glua.LState, v glua.LValue) string {
	switch x := v.(type) {
	case glua.LString:
		return string(x)
	case glua.LNumber:
		return luavm.FormatNumber(float64(x))
	}
	raise(L, "attempt to concatenate local '_size' (a "+v.Type().String()+" value)")
	return ""
}

func aesModeByName(name string) (aesMode, bool) {
	for _, size := range []int{128, 192, 256} {
		for _, mode := range []string{"ecb", "cbc", "cfb1", "cfb8", "cfb128", "ofb", "ctr", "gcm"} {
			if name != "EVP_aes_"+itoa(size)+"_"+mode {
				continue
			}
			iv := aes.BlockSize
			switch mode {
			case "ecb":
				iv = 0
			case "gcm":
				iv = 12
			}
			return aesMode{keyLen: size / 8, mode: mode, ivLen: iv}, true
		}
	}
	return aesMode{}, false
}

// newAES is aes:new(key, salt?, cipher?, hash?, hash_rounds?, iv_len?,
// enable_padding?) → object | nil, err.
func newAES(L *glua.LState, mt *glua.LTable, cipherFn *glua.LFunction) int {
	fail := func(msg string) int {
		L.Push(glua.LNil)
		L.Push(glua.LString(msg))
		return 2
	}
	key := checkLString(L, 2)
	cv := L.Get(4)
	if cv == glua.LNil || cv == glua.LFalse {
		L.Push(cipherFn)
		L.Call(0, 1)
		cv = L.Get(-1)
		L.Pop(1)
	}
	ct, ok := cv.(*glua.LTable)
	if !ok {
		raise(L, "attempt to index local '_cipher' (a "+cv.Type().String()+" value)")
	}
	var mode aesMode
	if ud, ok := ct.RawGetString("method").(*glua.LUserData); ok {
		mode, _ = ud.Value.(aesMode)
	}
	var size float64
	switch v := ct.RawGetString("size").(type) {
	case glua.LNumber:
		size = float64(v)
	case glua.LString:
		// Lua's arithmetic converts numeric strings.
		size, ok = luavm.ParseNumber(string(v))
	default:
		ok = false
	}
	if !ok || mode.keyLen == 0 {
		raise(L, "attempt to perform arithmetic on field 'size' (a "+ct.RawGetString("size").Type().String()+" value)")
	}
	keyLen := int(size) / 8
	obj := &aesObject{mode: mode, iv: make([]byte, keyLen), ivLen: keyLen}
	if n, ok := L.Get(7).(glua.LNumber); ok {
		obj.ivLen = int(n)
	}
	pad := L.Get(8)
	obj.padding = pad == glua.LNil || glua.LVAsBool(pad)

	switch h := L.Get(5).(type) {
	case *glua.LTable:
		iv, ok := h.RawGetString("iv").(glua.LString)
		if !ok {
			return fail("iv is needed")
		}
		obj.ivLen = len(iv)
		if len(iv) > keyLen {
			return fail("bad iv length")
		}
		if method := h.RawGetString("method"); method != glua.LNil {
			L.Push(method)
			L.Push(glua.LString(key))
			L.Call(1, 1)
			k, _ := L.Get(-1).(glua.LString)
			L.Pop(1)
			if len(k) != keyLen {
				return fail("bad key length")
			}
			obj.key = []byte(k)
		} else if len(key) != keyLen {
			return fail("bad key length")
		} else {
			obj.key = []byte(key)
		}
		copy(obj.iv, iv)
	default:
		newHash := md5.New
		if h != glua.LNil {
			ud, ok := h.(*glua.LUserData)
			var fn func() hash.Hash
			if ok {
				fn, ok = ud.Value.(func() hash.Hash)
			}
			if !ok {
				raise(L, "bad argument #2 to 'EVP_BytesToKey' (cannot convert '"+h.Type().String()+"' to 'const EVP_MD *')")
			}
			newHash = fn
		}
		var salt []byte
		if s := L.Get(3); s != glua.LNil && s != glua.LFalse {
			str, ok := s.(glua.LString)
			if !ok || len(str) != 8 {
				return fail("salt must be 8 characters or nil")
			}
			salt = []byte(str)
		}
		rounds := 1
		if n, ok := L.Get(6).(glua.LNumber); ok {
			rounds = int(n)
		}
		k, iv := bytesToKey(newHash, salt, []byte(key), rounds, mode.keyLen, mode.ivLen)
		if mode.keyLen != keyLen {
			return fail("failed to generate key and iv")
		}
		obj.key = k
		copy(obj.iv, iv)
	}
	if mode.mode == "gcm" && obj.ivLen <= 0 {
		return fail("failed to set IV length")
	}
	ud := L.NewUserData()
	ud.Value = obj
	t := L.CreateTable(0, 2)
	t.RawSetString("_encrypt_ctx", ud)
	t.RawSetString("_cipher", glua.LString(mode.mode))
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

// bytesToKey is OpenSSL's EVP_BytesToKey: digests of (previous digest,
// data, salt), each hashed count times, concatenated until key and IV are
// filled.
func bytesToKey(newHash func() hash.Hash, salt, data []byte, count, keyLen, ivLen int) (key, iv []byte) {
	var out, prev []byte
	for len(out) < keyLen+ivLen {
		h := newHash()
		h.Write(prev)
		h.Write(data)
		h.Write(salt)
		d := h.Sum(nil)
		for i := 1; i < count; i++ {
			h.Reset()
			h.Write(d)
			d = h.Sum(nil)
		}
		out = append(out, d...)
		prev = d
	}
	return out[:keyLen], out[keyLen : keyLen+ivLen]
}

// aesCrypt is aes:encrypt(s, aad?) and aes:decrypt(s, tag?, aad?).
func aesCrypt(L *glua.LState, enc bool) int {
	self, ok := L.Get(1).(*glua.LTable)
	if !ok {
		luavm.Raise(L, "bad argument #1 self: table expected, got %s", L.Get(1).Type().String())
	}
	ud, _ := self.RawGetString("_encrypt_ctx").(*glua.LUserData)
	var obj *aesObject
	if ud != nil {
		obj, _ = ud.Value.(*aesObject)
	}
	if obj == nil {
		raise(L, "bad argument #1 to 'EVP_EncryptInit_ex' (cannot convert 'nil' to 'EVP_CIPHER_CTX *')")
	}
	in, ok := L.Get(2).(glua.LString)
	if !ok {
		raise(L, "attempt to get length of local 's' (a "+L.Get(2).Type().String()+" value)")
	}
	fail := func(msg string) int {
		L.Push(glua.LNil)
		L.Push(glua.LString(msg))
		return 2
	}
	block, err := aes.NewCipher(obj.key)
	if err != nil {
		if enc {
			return fail("EVP_EncryptInit_ex failed")
		}
		return fail("EVP_DecryptInit_ex failed")
	}
	data := []byte(in)
	iv := make([]byte, aes.BlockSize)
	copy(iv, obj.iv)

	if obj.mode.mode == "gcm" {
		ivLen := obj.ivLen
		if ivLen > len(obj.iv) {
			ivLen = len(obj.iv)
		}
		g, err := cipher.NewGCMWithNonceSize(block, ivLen)
		if err != nil {
			return fail("failed to set IV length")
		}
		nonce := obj.iv[:ivLen]
		var aad []byte
		aadArg := 3
		if !enc {
			aadArg = 4
		}
		if a := L.Get(aadArg); a != glua.LNil {
			aad = []byte(checkLString(L, aadArg))
		}
		if enc {
			sealed := g.Seal(nil, nonce, data, aad)
			n := len(sealed) - g.Overhead()
			res := L.CreateTable(2, 0)
			res.RawSetInt(1, glua.LString(sealed[:n]))
			res.RawSetInt(2, glua.LString(sealed[n:]))
			L.Push(res)
			return 1
		}
		tag, ok := L.Get(3).(glua.LString)
		if !ok || len(tag) < g.Overhead() {
			return fail("EVP_DecryptFinal_ex failed")
		}
		plain, err := g.Open(nil, nonce, append(data, tag[:g.Overhead()]...), aad)
		if err != nil {
			return fail("EVP_DecryptFinal_ex failed")
		}
		L.Push(glua.LString(plain))
		return 1
	}

	var out []byte
	switch obj.mode.mode {
	case "ecb", "cbc":
		var ok bool
		out, ok = aesBlockMode(block, obj.mode.mode == "cbc", iv, data, enc, obj.padding)
		if !ok {
			if enc {
				return fail("EVP_EncryptFinal_ex failed")
			}
			return fail("EVP_DecryptFinal_ex failed")
		}
	case "ctr":
		out = make([]byte, len(data))
		cipher.NewCTR(block, iv).XORKeyStream(out, data)
	case "ofb":
		out = aesOFB(block, iv, data)
	case "cfb1":
		out = aesCFB1(block, iv, data, enc)
	case "cfb8":
		out = aesCFB8(block, iv, data, enc)
	case "cfb128":
		out = aesCFB128(block, iv, data, enc)
	}
	L.Push(glua.LString(out))
	return 1
}

// aesBlockMode runs ECB or CBC with optional PKCS#7 padding. It fails as
// OpenSSL's Final does: unpadded input that is not whole blocks, or a bad
// padding on decryption.
func aesBlockMode(b cipher.Block, cbc bool, iv, data []byte, enc, padding bool) ([]byte, bool) {
	const bs = aes.BlockSize
	if enc {
		if padding {
			n := bs - len(data)%bs
			for i := 0; i < n; i++ {
				data = append(data, byte(n))
			}
		} else if len(data)%bs != 0 {
			return nil, false
		}
	} else if len(data)%bs != 0 || padding && len(data) == 0 {
		return nil, false
	}
	out := make([]byte, len(data))
	switch {
	case cbc && enc:
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, data)
	case cbc:
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, data)
	default:
		for i := 0; i < len(data); i += bs {
			if enc {
				b.Encrypt(out[i:i+bs], data[i:i+bs])
			} else {
				b.Decrypt(out[i:i+bs], data[i:i+bs])
			}
		}
	}
	if enc || !padding {
		return out, true
	}
	n := int(out[len(out)-1])
	if n == 0 || n > bs {
		return nil, false
	}
	bad := 0
	for _, c := range out[len(out)-n:] {
		bad |= subtle.ConstantTimeByteEq(c, byte(n)) ^ 1
	}
	if bad != 0 {
		return nil, false
	}
	return out[:len(out)-n], true
}

// aesOFB is output feedback: the keystream is the IV encrypted again and
// again.
func aesOFB(b cipher.Block, iv, data []byte) []byte {
	out := make([]byte, len(data))
	ks := append([]byte(nil), iv...)
	for i := 0; i < len(data); i += aes.BlockSize {
		b.Encrypt(ks, ks)
		for j := i; j < len(data) && j < i+aes.BlockSize; j++ {
			out[j] = data[j] ^ ks[j-i]
		}
	}
	return out
}

// aesCFB128 is full-block cipher feedback.
func aesCFB128(b cipher.Block, iv, data []byte, enc bool) []byte {
	out := make([]byte, len(data))
	reg := append([]byte(nil), iv...)
	ks := make([]byte, aes.BlockSize)
	for i := 0; i < len(data); i += aes.BlockSize {
		b.Encrypt(ks, reg)
		for j := i; j < len(data) && j < i+aes.BlockSize; j++ {
			out[j] = data[j] ^ ks[j-i]
			if enc {
				reg[j-i] = out[j]
			} else {
				reg[j-i] = data[j]
			}
		}
	}
	return out
}

// aesCFB8 is cipher feedback one byte at a time.
func aesCFB8(b cipher.Block, iv, data []byte, enc bool) []byte {
	out := make([]byte, len(data))
	reg := append([]byte(nil), iv...)
	ks := make([]byte, aes.BlockSize)
	for i, c := range data {
		b.Encrypt(ks, reg)
		out[i] = c ^ ks[0]
		copy(reg, reg[1:])
		if enc {
			reg[aes.BlockSize-1] = out[i]
		} else {
			reg[aes.BlockSize-1] = c
		}
	}
	return out
}

// aesCFB1 is cipher feedback one bit at a time, most significant bit of
// each byte first.
func aesCFB1(b cipher.Block, iv, data []byte, enc bool) []byte {
	out := make([]byte, len(data))
	reg := append([]byte(nil), iv...)
	ks := make([]byte, aes.BlockSize)
	for i, c := range data {
		var o byte
		for bit := 7; bit >= 0; bit-- {
			b.Encrypt(ks, reg)
			inBit := c >> uint(bit) & 1
			outBit := inBit ^ ks[0]>>7
			o |= outBit << uint(bit)
			fb := outBit
			if !enc {
				fb = inBit
			}
			// shift the register left by one bit, feeding the
			// ciphertext bit in.
			for k := 0; k < aes.BlockSize-1; k++ {
				reg[k] = reg[k]<<1 | reg[k+1]>>7
			}
			reg[aes.BlockSize-1] = reg[aes.BlockSize-1]<<1 | fb
		}
		out[i] = o
	}
	return out
}
