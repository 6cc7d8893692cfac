package authbasic

import (
	"crypto/des"
	"encoding/binary"
	"testing"
)

// The expected hashes were made with Perl's crypt(), that is the C
// library's (libxcrypt), on the password and the entry's first two bytes.
func TestDESCrypt(t *testing.T) {
	tests := []struct{ password, entry string }{
		{"password", "abJnggxhB/yWI"},
		{"password", "..UZoIyj/Hy/c"},
		{"password", "zzXUHfURnGg8I"},
		{"password", "./xZjzHv5vzVE"},
		{"password", "/.iTV2iP8pLgs"},
		{"password", "z.x/tFH.RNjbo"},
		{".", "AzBc/6fFt.aD6"},
		{"", "abmF1QH4PEr.E"},
		{"", "..X8NBuQ4l6uQ"},
		{"a", "zzJZ5PtvFqi9o"},
		{"12345678", "9Zhas0ccxjxjA"},
		{"123456789", "9Zhas0ccxjxjA"},
		{"passwordpassword", "Xy2PtsPf0839Y"},
		{"password1", "Xy2PtsPf0839Y"},
		{"password", "Xy2PtsPf0839Y"},
		{"\xf0\xe1\xf3\xf3", "qqg4XdetlDURQ"},
		{"pass", "qqg4XdetlDURQ"},
		{"\xff\xfe\x80\x01", "0a3hU5pd86ugY"},
		{"test", "aaqPiZY5xR5l."},
		{"foo bar baz", "PqT44/oVSiMQ2"},
	}
	for _, tt := range tests {
		if got := string(Crypt([]byte(tt.password), []byte(tt.entry))); got != tt.entry {
			t.Errorf("Crypt(%q, %q) = %q", tt.password, tt.entry, got)
		}
		// the salt alone is a setting too, as for crypt(3)
		if got := string(Crypt([]byte(tt.password), []byte(tt.entry[:2]))); got != tt.entry {
			t.Errorf("Crypt(%q, %q) = %q, want %q", tt.password, tt.entry[:2], got, tt.entry)
		}
	}
}

func TestDESCryptMismatch(t *testing.T) {
	tests := []struct{ password, entry string }{
		{"Password", "abJnggxhB/yWI"},
		{"passwore", "abJnggxhB/yWI"},
		{"password", "acJnggxhB/yWI"},  // other salt
		{"password", "abJnggxhB/yWI "}, // not 13 bytes
		{"password", "abJnggxhB/yW"},
		{"x", "a"},
		{"", ""},
		{"password", "a!JnggxhB/yWI"}, // not a salt digit
		{"password", "!aJnggxhB/yWI"},
		{"password", "_J9..CCCC.MOp/ZbelpA"}, // extended DES is not supported
	}
	for _, tt := range tests {
		if got := string(Crypt([]byte(tt.password), []byte(tt.entry))); got == tt.entry {
			t.Errorf("Crypt(%q, %q) matched", tt.password, tt.entry)
		}
	}
}

// TestDESCore checks the tables against the standard library's DES: with
// no salt, one desEncrypt is plain DES.
func TestDESCore(t *testing.T) {
	tests := []struct{ key, block uint64 }{
		{0, 0},
		{0x133457799bbcdff1, 0x0123456789abcdef},
		{0xfefefefefefefefe, 0xffffffffffffffff},
		{0x0123456789abcdef, 0x4e6f772069732074},
		{0xe0e0e0e0f1f1f1f1, 0x8000000000000001},
	}
	for _, tt := range tests {
		var k, in, want [8]byte
		binary.BigEndian.PutUint64(k[:], tt.key)
		binary.BigEndian.PutUint64(in[:], tt.block)
		c, err := des.NewCipher(k[:])
		if err != nil {
			t.Fatal(err)
		}
		c.Encrypt(want[:], in[:])
		ks := desKeySchedule(tt.key)
		if got := desEncrypt(tt.block, &ks, 0); got != binary.BigEndian.Uint64(want[:]) {
			t.Errorf("key %016x block %016x: got %016x, want %x", tt.key, tt.block, got, want)
		}
	}
}

func BenchmarkDESCrypt(b *testing.B) {
	pw, entry := []byte("password"), []byte("abJnggxhB/yWI")
	for b.Loop() {
		desCrypt(pw, entry)
	}
}
