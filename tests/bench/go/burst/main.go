// burst: the Go 1.19 peer of gmprun's `skynet` and `spawn` built-ins
// (tools/gmprun/workloads/skynet.cpp, spawn.cpp), as a program run the same
// way: a GOMAXPROCS given on the command line, the fastest of -repeat runs,
// and a summary line with the built-ins' field names.
//
//	burst -workload skynet -procs 2 -repeat 3   # 1M-leaf tree, WaitGroup per node
//	burst -workload spawn -procs 2 -count 1000000
//
// skynet: each node spawns 10 children and waits for them on a WaitGroup
// (the built-in's shape; Go's channel skynet is slower); ns_per_op is per
// goroutine of the tree (1 111 111). spawn: one goroutine spawns -count
// goroutines that each call wg.Done(), then waits; ns_per_op is per goroutine.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func node(out *int64, parent *sync.WaitGroup, num, size, div int64) {
	if size == 1 {
		*out = num
		parent.Done()
		return
	}
	sums := make([]int64, div)
	var wg sync.WaitGroup
	wg.Add(int(div))
	step := size / div
	for i := int64(0); i < div; i++ {
		go node(&sums[i], &wg, num+i*step, step, div)
	}
	wg.Wait()
	var total int64
	for _, s := range sums {
		total += s
	}
	*out = total
	parent.Done()
}

func main() {
	workload := flag.String("workload", "skynet", "skynet or spawn")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	repeat := flag.Int("repeat", 1, "runs (figures are from the fastest)")
	count := flag.Int64("count", 1000000, "spawn: goroutines; skynet: leaves (a power of 10)")
	flag.Parse()
	if *procs < 1 || *repeat < 1 || *count < 1 {
		fmt.Fprintln(os.Stderr, "burst: -procs, -repeat and -count must be at least 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	best := time.Duration(1<<63 - 1)
	var perRun int64
	switch *workload {
	case "skynet":
		const div = 10
		for s := *count; s >= 1; s /= div {
			perRun += *count / s
		}
		want := *count * (*count - 1) / 2
		for r := 0; r < *repeat; r++ {
			t0 := time.Now()
			var wg sync.WaitGroup
			var result int64
			wg.Add(1)
			go node(&result, &wg, 0, *count, div)
			wg.Wait()
			if d := time.Since(t0); d < best {
				best = d
			}
			if result != want {
				fmt.Fprintf(os.Stderr, "burst: skynet result %d, expected %d\n", result, want)
				os.Exit(1)
			}
		}
	case "spawn":
		perRun = *count
		for r := 0; r < *repeat; r++ {
			var ran int64
			t0 := time.Now()
			var wg sync.WaitGroup
			wg.Add(int(*count))
			for i := int64(0); i < *count; i++ {
				go func() {
					atomic.AddInt64(&ran, 1)
					wg.Done()
				}()
			}
			wg.Wait()
			if d := time.Since(t0); d < best {
				best = d
			}
			if ran != *count {
				fmt.Fprintf(os.Stderr, "burst: %d of %d goroutines ran\n", ran, *count)
				os.Exit(1)
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "burst: -workload %q is unknown; use skynet or spawn\n", *workload)
		os.Exit(2)
	}
	ms := float64(best.Nanoseconds()) / 1e6
	fmt.Printf("summary workload=%s runtime=go procs=%d goroutines_per_run=%d best_ms=%.3f ns_per_op=%.1f\n",
		*workload, *procs, perRun, ms, ms*1e6/float64(perRun))
}
