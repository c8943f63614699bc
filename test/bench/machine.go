package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes the host a run was measured on: cores, CPU model, memory, Go.
func Machine() string {
	cpu := procField("/proc/cpuinfo", "model name")
	if cpu == "" {
		cpu = runtime.GOARCH
	}
	mem := procField("/proc/meminfo", "MemTotal")
	var kb int64
	fmt.Sscanf(mem, "%d", &kb)
	return fmt.Sprintf("%d cores (nproc), %s, %.1f GiB RAM, %s %s/%s", runtime.NumCPU(), cpu, float64(kb)/(1<<20), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// procField returns the value of the first "name : value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
