package log

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFDCacheMinUses follows nginx-tests' open_log_file_cache sequence
// (max=3 min_uses=2): a name used once is counted but not kept and takes
// a slot, so the least recently used kept name is closed; names used
// twice keep their descriptor, which still writes after the directory is
// moved away.
func TestFDCacheMinUses(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	cc := &fileCacheConf{max: 3, inactive: 20 * time.Second, valid: time.Minute, minUses: 2}
	c := &fdCache{entries: map[string]*cachedFD{}}
	defer c.closeAll()
	now := time.Unix(1000, 0)
	write := func(name string) (kept, ok bool) {
		now = now.Add(time.Millisecond)
		fd, keep, err := c.open(filepath.Join(logs, name), cc, now)
		if err != nil {
			return false, false
		}
		if _, err := unix.Write(fd, []byte("/\n")); err != nil {
			t.Fatal(err)
		}
		if !keep {
			unix.Close(fd)
		}
		return keep, true
	}
	for _, step := range []struct {
		name     string
		wantKeep bool
	}{{"lru", false}, {"lru", true}, {"once", false}, {"first", false}, {"first", true}, {"second", false}, {"second", true}} {
		if kept, ok := write(step.name); !ok || kept != step.wantKeep {
			t.Fatalf("%s: kept %v ok %v, want kept %v", step.name, kept, ok, step.wantKeep)
		}
	}
	if err := os.Rename(logs, logs+"_moved"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name   string
		wantOK bool
	}{{"lru", false}, {"once", false}, {"first", true}, {"second", true}} {
		if _, ok := write(step.name); ok != step.wantOK {
			t.Errorf("%s after the move: written %v, want %v", step.name, ok, step.wantOK)
		}
	}
	for name, want := range map[string]int{"lru": 2, "once": 1, "first": 3, "second": 3} {
		b, _ := os.ReadFile(filepath.Join(logs+"_moved", name))
		if got := len(b) / 2; got != want {
			t.Errorf("%s: %d lines, want %d", name, got, want)
		}
	}
}
