package luavm

import "testing"

// BenchmarkPairs walks a ten-key table with pairs.
func BenchmarkPairs(b *testing.B) {
	vm, _ := benchVM(b, Options{})
	if err := vm.L.DoString(`T = {a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10}`); err != nil {
		b.Fatal(err)
	}
	benchRun(b, vm, `local n = 0 for k, v in pairs(T) do n = n + v end`)
}
