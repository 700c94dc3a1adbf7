// The histogram, summary line and exit checks of the Go twin: the same
// bucket layout as gmp::FineHistogram (128 buckets per power of two, upper
// bounds reported, capped at the max) and the same summary keys as
// `gmprun orders`, so one script reads both.
package main

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

const (
	subBits = 7
	maxBits = 44
	sub     = 1 << subBits
	nBucket = sub + (maxBits-subBits)*sub + 1
)

type Histogram struct {
	counts   [nBucket]uint64
	sum, max uint64
}

func index(v uint64) int {
	u := v
	if u > 0 {
		u--
	}
	if u < sub {
		return int(u)
	}
	e := 63 - bits.LeadingZeros64(u)
	if e >= maxBits {
		return nBucket - 1
	}
	return sub + (e-subBits)*sub + int((u>>(e-subBits))&(sub-1))
}

func upper(i int) uint64 {
	if i >= nBucket-1 {
		return math.MaxUint64
	}
	if i < sub {
		return uint64(i) + 1
	}
	k := uint64(i - sub)
	e := int(k/sub) + subBits
	return (sub + k%sub + 1) << (e - subBits)
}

func (h *Histogram) Record(v uint64) {
	h.counts[index(v)]++
	h.sum += v
	if v > h.max {
		h.max = v
	}
}

func (h *Histogram) Merge(o *Histogram) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}

func (h *Histogram) Quantile(q float64) uint64 {
	var n uint64
	for _, c := range h.counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if u := upper(i); u < h.max {
				return u
			}
			return h.max
		}
	}
	return h.max
}

type summary struct{ b strings.Builder }

func (s *summary) set(k string, v interface{}) {
	switch x := v.(type) {
	case float64:
		str := strconv.FormatFloat(x, 'f', 3, 64)
		str = strings.TrimRight(strings.TrimRight(str, "0"), ".")
		fmt.Fprintf(&s.b, " %s=%s", k, str)
	default:
		fmt.Fprintf(&s.b, " %s=%v", k, x)
	}
}

func us(ns uint64) float64 { return float64(ns) / 1000 }

func report(c *config, shards []*shard, start, end int64, generated, unsent, batches uint64) int {
	var e2e, gen, parse, risk, match, publish Histogram
	var reports, measured, fillsSeen, fillQtySeen, resting, restingQty, ticks uint64
	var status [5]uint64
	var rej rejectCounts
	var t tally
	last := start
	var problems []string
	for _, s := range shards {
		for _, st := range s.stats {
			e2e.Merge(&st.e2e)
			gen.Merge(&st.gen)
			parse.Merge(&st.parse)
			risk.Merge(&st.risk)
			match.Merge(&st.match)
			publish.Merge(&st.publish)
			reports += st.reports
			measured += st.measured
			fillsSeen += st.fills
			fillQtySeen += st.fillQty
			for k := range status {
				status[k] += st.status[k]
			}
			if st.last > last {
				last = st.last
			}
		}
		for _, rc := range []*rejectCounts{&s.parseRej, &s.riskRej} {
			for k := range rc.byReason {
				rej.byReason[k] += rc.byReason[k]
			}
			rej.newOrders += rc.newOrders
			rej.cancels += rc.cancels
		}
		var sRest, sRestQty uint64
		for _, b := range s.books {
			if err := b.Check(); err != nil {
				problems = append(problems, err.Error())
			}
			sRest += uint64(len(b.index))
			sRestQty += b.RestingQty()
		}
		st := s.t
		if st.accepted != st.filled+st.cancelled+sRest {
			problems = append(problems, fmt.Sprintf("shard %d: orders not conserved", s.id))
		}
		if st.acceptedQty != 2*st.fillQty+st.cancelledQty+sRestQty {
			problems = append(problems, fmt.Sprintf("shard %d: quantity not conserved", s.id))
		}
		resting += sRest
		restingQty += sRestQty
		ticks += s.ticks
		t.newOrders += st.newOrders
		t.cancels += st.cancels
		t.accepted += st.accepted
		t.acceptedQty += st.acceptedQty
		t.rejected += st.rejected
		t.cancelRejects += st.cancelRejects
		t.fills += st.fills
		t.fillQty += st.fillQty
		t.filled += st.filled
		t.cancelled += st.cancelled
		t.cancelledQty += st.cancelledQty
	}
	window := math.Max(float64(end-start), 1) / 1e9
	busy := math.Max(float64(last-start)/1e9, window)
	offered := float64(generated) / window
	achieved := float64(reports) / busy
	newOrders := t.newOrders + rej.newOrders
	cancels := t.cancels + rej.cancels
	rejectedNew := rej.newOrders + t.rejected
	rejectedAll := rejectedNew + rej.cancels + t.cancelRejects
	expect := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
		}
	}
	expect(reports == generated, fmt.Sprintf("messages not conserved: %d generated, %d reported", generated, reports))
	expect(newOrders+cancels == generated, "message kinds do not add up")
	expect(newOrders == t.filled+t.cancelled+resting+rejectedNew, "orders not conserved")
	expect(status[stCancelled] == t.cancelled, "cancels reported != orders cancelled")
	expect(fillsSeen == t.fills && fillQtySeen == t.fillQty, "fills published != fills made")
	expect(status[stRejected] == rejectedAll, "rejects reported != counted")

	s := &summary{}
	s.b.WriteString("summary workload=orders-go")
	s.set("ok", len(problems) == 0)
	s.set("rate_asked", c.rate)
	s.set("rate_offered", offered)
	s.set("rate_achieved", achieved)
	s.set("rate_held", unsent == 0 && reports == generated && achieved >= 0.99*offered)
	s.set("messages", generated)
	s.set("unsent", unsent)
	s.set("batches", batches)
	if batches > 0 {
		s.set("mean_batch", float64(generated)/float64(batches))
	}
	s.set("latency_samples", measured)
	s.set("lat_p50_us", us(e2e.Quantile(0.5)))
	s.set("lat_p99_us", us(e2e.Quantile(0.99)))
	s.set("lat_p999_us", us(e2e.Quantile(0.999)))
	s.set("lat_max_us", us(e2e.max))
	for _, st := range []struct {
		name string
		h    *Histogram
	}{{"gen", &gen}, {"parse", &parse}, {"risk", &risk}, {"match", &match}, {"publish", &publish}} {
		s.set("stage_"+st.name+"_p50_us", us(st.h.Quantile(0.5)))
		s.set("stage_"+st.name+"_p99_us", us(st.h.Quantile(0.99)))
	}
	s.set("orders", newOrders)
	s.set("cancels", cancels)
	s.set("filled", t.filled)
	s.set("cancelled", t.cancelled)
	s.set("resting", resting)
	s.set("rejected", rejectedAll)
	s.set("fills", t.fills)
	s.set("fill_qty", t.fillQty)
	s.set("ticks", ticks)
	var mal, biz uint64
	for k := 1; k < rjCount; k++ {
		n := rej.byReason[k]
		if k == rjDuplicateID {
			n += t.rejected
		}
		if k == rjUnknownOrder {
			n += t.cancelRejects
		}
		if malformed(k) {
			mal += n
		} else {
			biz += n
		}
		if n != 0 {
			s.set("reject_"+rejectNames[k], n)
		}
	}
	s.set("rejects_malformed", mal)
	s.set("rejects_business", biz)
	var ms runtimeStats
	readRuntime(&ms)
	s.set("gc_cycles", ms.gcCycles)
	s.set("gc_pause_total_us", us(ms.pauseTotalNs))
	s.set("gc_pause_max_us", us(ms.pauseMaxNs))
	s.set("check", len(problems) == 0)
	s.set("procs", ms.procs)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "orders-go: check failed:", p)
	}
	fmt.Println(s.b.String())
	if len(problems) > 0 {
		return 1
	}
	return 0
}
