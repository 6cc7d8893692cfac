package authbasic

import "testing"

// The crypt(3) vectors were made with "openssl passwd" (-1, -apr1, -5, -6
// with the salts shown); the {SHA} and {SSHA} ones with Python's hashlib
// (base64 of the SHA-1 digest; of the digest of password+salt, then the
// salt "salt").
func TestCrypt(t *testing.T) {
	tests := []struct {
		password, entry string
		match           bool
	}{
		{"secret", "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", true},
		{"Secret", "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", false},
		{"secret", "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", true},
		{"secret", "$apr1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", false},
		{"secret", "$5$saltsaltsalt$TihBZCRsJxAxHgKub.mCOdu9X7QLi980jJxe7T2aZg7", true},
		{"secret", "$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/tGPjanN35jcY68QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts.", true},
		{"pw", "$5$rounds=1234$short$PXiJSw5saV3rSpKRcEq4Cwe8ZQfy0LQzx2S3NVGpy58", true},
		{"pw", "$5$rounds=1234$short$PXiJSw5saV3rSpKRcEq4Cwe8ZQfy0LQzx2S3NVGpy59", false},
		{"secret", "{PLAIN}secret", true},
		{"secret", "{PLAIN}secreT", false},
		{"secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", true},
		{"secret\x00tail", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", true},
		{"password", "{SSHA}yI6cZwQadOA1e+/f+T+H3eCQQhRzYWx0", true},
		{"Password", "{SSHA}yI6cZwQadOA1e+/f+T+H3eCQQhRzYWx0", false},
		{"secret", "plain-text", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got := string(Crypt([]byte(tt.password), []byte(tt.entry)))
		if (got == tt.entry) != tt.match {
			t.Errorf("Crypt(%q, %q) = %q, match %v, want %v", tt.password, tt.entry, got, got == tt.entry, tt.match)
		}
	}
}
