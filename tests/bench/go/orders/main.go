// orders: the Go 1.19 twin of `gmprun orders` (docs/ORDERS.md, "The Go
// twin"). The same open-loop generator (per shard, Poisson at rate/shards,
// intended send times, spin with runtime.Gosched when the next order is due
// within -spin, else time.Sleep), the same wire frames decoded by the parse
// stage, the same stages over buffered channels of batches, the same books,
// risk, ticks, order mix, checks and summary keys.
//
//	go build -o orders-go . && ./orders-go -rate 127000 -duration 2s -procs 2
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const maxBatch = 32

type Msg struct {
	Order      Order
	TIntended  int64
	Fills      []Fill
	Out        Outcome
	IsCancel   bool
	FrameLen   uint8
	Frame      [42]byte
	rejectedBy int // 0, or the reason already decided
}

type Batch struct {
	Msgs                              []Msg
	TSent, TParsed, TRisked, TMatched int64
}

type tick struct {
	symbols []uint32
	prices  []int64
}

type item struct {
	b *Batch
	t *tick
}

var epoch = time.Now()

func nowNs() int64 { return int64(time.Since(epoch)) }

type rejectCounts struct {
	byReason           [rjCount]uint64
	newOrders, cancels uint64
}

func (c *rejectCounts) count(m *Msg, r int) {
	m.Out = Outcome{Status: stRejected, Reason: uint8(r)}
	m.rejectedBy = r
	c.byReason[r]++
	if m.IsCancel {
		c.cancels++
	} else {
		c.newOrders++
	}
}

type tally struct {
	newOrders, cancels, accepted, acceptedQty, rejected, cancelRejects uint64
	fills, fillQty, filled, cancelled, cancelledQty                    uint64
}

type subStats struct {
	e2e, gen, parse, risk, match, publish Histogram
	reports, measured, fills, fillQty     uint64
	status                                [5]uint64
	last                                  int64
}

type shard struct {
	id                int
	parseIn           chan *Batch
	riskIn            chan item
	matchIn           chan *Batch
	subs              []chan *Batch
	books             map[uint32]*Book
	parseRej, riskRej rejectCounts
	t                 tally
	ticks             uint64
	stats             []*subStats
	tickersDone       sync.WaitGroup
}

type config struct {
	rate                                    float64
	duration, warmup, spin, tickEvery       time.Duration
	symbols, accounts, shards, subscribers  int
	cancel, market, malformedPct, overLimit float64
	seed                                    int64
}

func encodeNew(b []byte, o *Order) int {
	binary.LittleEndian.PutUint16(b, 40)
	b[2], b[3], b[4], b[5] = 1, o.Side, o.Kind, 0
	binary.LittleEndian.PutUint32(b[6:], o.Account)
	binary.LittleEndian.PutUint32(b[10:], o.Symbol)
	binary.LittleEndian.PutUint32(b[14:], o.Qty)
	binary.LittleEndian.PutUint64(b[18:], uint64(o.Price))
	binary.LittleEndian.PutUint64(b[26:], o.ID)
	binary.LittleEndian.PutUint64(b[34:], 0)
	return 42
}

func encodeCancel(b []byte, o *Order) int {
	binary.LittleEndian.PutUint16(b, 32)
	b[2], b[3], b[4], b[5] = 2, 0, 0, 0
	binary.LittleEndian.PutUint32(b[6:], o.Account)
	binary.LittleEndian.PutUint32(b[10:], o.Symbol)
	binary.LittleEndian.PutUint32(b[14:], 0)
	binary.LittleEndian.PutUint64(b[18:], o.ID)
	binary.LittleEndian.PutUint64(b[26:], 0)
	return 34
}

// decode mirrors orders::proto::decode_request: ok, the order, a field error.
func decode(f []byte) (Order, int, bool) {
	var o Order
	if len(f) < 3 {
		return o, 0, false
	}
	l, t := int(binary.LittleEndian.Uint16(f)), f[2]
	b := f[2:]
	switch {
	case t == 1 && l == 40 && len(b) >= 40:
		o.Side = b[1]
		if b[2] == kindLimit || b[2] == kindMarket {
			o.Kind = b[2]
		}
		o.Account = binary.LittleEndian.Uint32(b[4:])
		o.Symbol = binary.LittleEndian.Uint32(b[8:])
		o.Qty = binary.LittleEndian.Uint32(b[12:])
		o.Price = int64(binary.LittleEndian.Uint64(b[16:]))
		o.ID = binary.LittleEndian.Uint64(b[24:])
		if b[3] != 0 {
			return o, rjBadField, true
		}
		return o, rjNone, true
	case t == 2 && l == 32 && len(b) >= 32:
		o.Kind, o.Side = kindCancel, sideBuy
		o.Account = binary.LittleEndian.Uint32(b[4:])
		o.Symbol = binary.LittleEndian.Uint32(b[8:])
		o.ID = binary.LittleEndian.Uint64(b[16:])
		if b[1] != 0 || b[2] != 0 || b[3] != 0 || binary.LittleEndian.Uint32(b[12:]) != 0 {
			return o, rjBadField, true
		}
		return o, rjNone, true
	}
	return o, 0, false
}

type recent struct {
	id              uint64
	account, symbol uint32
	gone            bool
}

// flow: the limit orders a generator keeps alive, oldest first (as Flow in
// orders_gen.hpp): at liveMax outstanding, the next message cancels the oldest.
const liveMax = 2048

type flow struct {
	live        [liveMax]recent
	head, count int
}

func (f *flow) push(r recent) { f.live[(f.head+f.count)%liveMax] = r; f.count++ }
func (f *flow) full() bool    { return f.count == liveMax }
func (f *flow) popOldest() *recent {
	for f.count > 0 {
		r := &f.live[f.head%liveMax]
		f.head++
		f.count--
		if !r.gone {
			return r
		}
	}
	return nil
}
func (f *flow) pickRecent(rng *rand.Rand) *recent {
	if f.count == 0 {
		return nil
	}
	n := f.count
	if n > 256 {
		n = 256
	}
	k := rng.Intn(n)
	return &f.live[(f.head+f.count-1-k)%liveMax]
}

func generator(s *shard, c *config, r *Risk, start, end, giveUp int64, sent, unsent, batches *uint64) {
	rng := rand.New(rand.NewSource(c.seed*7919 + int64(s.id) + 1))
	var syms []uint32
	for i := s.id; i < c.symbols; i += c.shards {
		syms = append(syms, uint32(i))
	}
	fl := &flow{}
	var seq uint64
	idBase := uint64(s.id+1) << 48
	meanGap := 1e9 * float64(c.shards) / c.rate
	gap := func() float64 { return rng.ExpFloat64() * meanGap }
	next := float64(start) + gap()
	for next < float64(end) {
		now := nowNs()
		if now > giveUp {
			for ; next < float64(end); next += gap() {
				*unsent++
			}
			break
		}
		t := int64(next)
		if t > now {
			if time.Duration(t-now) > c.spin {
				time.Sleep(time.Duration(t-now) - c.spin/2)
			} else {
				runtime.Gosched()
			}
			continue
		}
		b := &Batch{Msgs: make([]Msg, 0, 4)}
		for len(b.Msgs) < maxBatch && next < float64(end) && int64(next) <= now {
			b.Msgs = append(b.Msgs, Msg{TIntended: int64(next)})
			m := &b.Msgs[len(b.Msgs)-1]
			seq++
			makeOrder(rng, c, r, syms, idBase|seq, fl, m)
			next += gap()
		}
		b.TSent = nowNs()
		s.parseIn <- b
		*sent += uint64(len(b.Msgs))
		*batches++
	}
	close(s.parseIn)
}

func makeOrder(rng *rand.Rand, c *config, r *Risk, syms []uint32, id uint64, fl *flow, m *Msg) {
	sym := syms[rng.Intn(len(syms))]
	acct := uint32(rng.Intn(c.accounts))
	x := rng.Float64()
	var target *recent
	if fl.full() {
		target = fl.popOldest()
	} else if x <= c.cancel {
		if t := fl.pickRecent(rng); t != nil {
			t.gone = true
			target = t
		}
	}
	if target != nil {
		t := *target
		m.Order = Order{ID: t.id, Account: t.account, Symbol: t.symbol, Side: sideBuy, Kind: kindCancel}
		m.IsCancel = true
		m.FrameLen = uint8(encodeCancel(m.Frame[:], &m.Order))
	} else {
		o := Order{ID: id, Account: acct, Symbol: sym, Side: sideBuy, Kind: kindLimit, Qty: uint32(1 + rng.Intn(100))}
		if rng.Intn(2) == 1 {
			o.Side = sideSell
		}
		if x <= c.cancel+c.market {
			o.Kind = kindMarket
		}
		ref := r.ref[sym].Load()
		if o.Kind == kindLimit {
			off := int64(rng.Intn(10)) - 2
			if o.Side == sideBuy {
				o.Price = ref - off
			} else {
				o.Price = ref + off
			}
			fl.push(recent{id: o.ID, account: o.Account, symbol: o.Symbol})
		}
		if rng.Float64() <= c.overLimit {
			if o.Kind == kindLimit && rng.Intn(2) == 0 {
				if o.Side == sideBuy {
					o.Price = ref + ref/5
				} else {
					o.Price = ref - ref/5
				}
			} else {
				o.Qty = r.maxQty + 1
			}
		}
		m.Order = o
		m.FrameLen = uint8(encodeNew(m.Frame[:], &m.Order))
	}
	if rng.Float64() <= c.malformedPct {
		b := m.Frame[2:]
		switch rng.Intn(4) {
		case 0:
			b[3] = 1
		case 1:
			b[8], b[9], b[10], b[11] = 0xff, 0xff, 0xff, 0xff
		case 2:
			if !m.IsCancel {
				b[1] = 9
			} else {
				b[1] = 1
			}
		default:
			if !m.IsCancel {
				b[12], b[13], b[14], b[15] = 0, 0, 0, 0
			} else {
				b[12] = 1
			}
		}
	}
}

func ticker(s *shard, c *config, r *Risk, stop *atomic.Bool, base int64) {
	rng := rand.New(rand.NewSource(c.seed + 77*int64(s.id+1)))
	cursor := s.id
	for !stop.Load() {
		time.Sleep(c.tickEvery)
		if stop.Load() {
			break
		}
		t := &tick{}
		for len(t.symbols) < 16 && len(t.symbols)*c.shards < c.symbols {
			px := r.ref[cursor].Load() + int64(rng.Intn(3)) - 1
			if px < base/2 {
				px = base / 2
			}
			if px > base*2 {
				px = base * 2
			}
			t.symbols = append(t.symbols, uint32(cursor))
			t.prices = append(t.prices, px)
			cursor += c.shards
			if cursor >= c.symbols {
				cursor = s.id
			}
		}
		s.riskIn <- item{t: t}
	}
	s.tickersDone.Done()
}

func parseStage(s *shard, c *config) {
	for b := range s.parseIn {
		for i := range b.Msgs {
			m := &b.Msgs[i]
			o, fe, ok := decode(m.Frame[:m.FrameLen])
			if !ok {
				s.parseRej.count(m, rjBadField)
				continue
			}
			m.Order = o
			r := fe
			if r == rjNone {
				r = validate(&o, uint32(c.symbols), uint32(c.accounts))
			}
			if r != rjNone {
				s.parseRej.count(m, r)
			}
		}
		b.TParsed = nowNs()
		s.riskIn <- item{b: b}
	}
	s.tickersDone.Wait()
	close(s.riskIn)
}

func riskStage(s *shard, r *Risk) {
	for it := range s.riskIn {
		if it.t != nil {
			for i, sym := range it.t.symbols {
				r.ref[sym].Store(it.t.prices[i])
			}
			s.ticks++
			continue
		}
		b := it.b
		for i := range b.Msgs {
			m := &b.Msgs[i]
			if m.rejectedBy != 0 {
				continue
			}
			if x := r.Check(&m.Order); x != rjNone {
				s.riskRej.count(m, x)
			}
		}
		b.TRisked = nowNs()
		s.matchIn <- b
	}
	close(s.matchIn)
}

func matchStage(s *shard, r *Risk) {
	next := 0
	for b := range s.matchIn {
		for i := range b.Msgs {
			m := &b.Msgs[i]
			if m.rejectedBy != 0 {
				continue
			}
			m.Out = s.apply(m, r)
		}
		b.TMatched = nowNs()
		s.subs[next] <- b
		next = (next + 1) % len(s.subs)
	}
	for _, c := range s.subs {
		close(c)
	}
}

func (s *shard) apply(m *Msg, r *Risk) Outcome {
	o := &m.Order
	book := s.books[o.Symbol]
	t := &s.t
	if o.Kind == kindCancel {
		t.cancels++
		out := book.Cancel(o.ID, o.Account)
		if out.Status == stCancelled {
			t.cancelled++
			t.cancelledQty += uint64(out.Leaves)
		} else {
			t.cancelRejects++
		}
		return out
	}
	t.newOrders++
	out := book.Submit(o, func(f Fill) {
		t.fills++
		t.fillQty += uint64(f.Qty)
		if f.MakerDone {
			t.filled++
		}
		buyer, seller := f.TakerAccount, f.MakerAccount
		if f.TakerSide == sideSell {
			buyer, seller = seller, buyer
		}
		r.OnFill(f.Symbol, buyer, seller, f.Qty)
		m.Fills = append(m.Fills, f)
	})
	if out.Status == stRejected {
		t.rejected++
		return out
	}
	t.accepted++
	t.acceptedQty += uint64(o.Qty)
	if out.Status == stFilled {
		t.filled++
	}
	if out.Status == stCancelled {
		t.cancelled++
		t.cancelledQty += uint64(out.Leaves)
	}
	return out
}

func subscriber(ch chan *Batch, st *subStats, measureFrom int64, wg *sync.WaitGroup) {
	for b := range ch {
		now := nowNs()
		for i := range b.Msgs {
			m := &b.Msgs[i]
			st.reports++
			st.status[m.Out.Status]++
			st.fills += uint64(len(m.Fills))
			for _, f := range m.Fills {
				st.fillQty += uint64(f.Qty)
			}
			if m.TIntended < measureFrom {
				continue
			}
			st.measured++
			st.e2e.Record(uint64(now - m.TIntended))
			st.gen.Record(uint64(b.TSent - m.TIntended))
		}
		if b.TSent >= measureFrom {
			st.parse.Record(uint64(b.TParsed - b.TSent))
			st.risk.Record(uint64(b.TRisked - b.TParsed))
			st.match.Record(uint64(b.TMatched - b.TRisked))
			st.publish.Record(uint64(now - b.TMatched))
		}
		st.last = now
	}
	wg.Done()
}

func main() {
	c := &config{}
	procs := flag.Int("procs", 2, "GOMAXPROCS")
	flag.Float64Var(&c.rate, "rate", 127000, "orders per second, Poisson arrivals (open loop)")
	flag.DurationVar(&c.duration, "duration", 2*time.Second, "how long to generate orders")
	flag.DurationVar(&c.warmup, "warmup", 100*time.Millisecond, "not in the latency figures")
	flag.DurationVar(&c.spin, "spin", 0, "Gosched in a loop when the next order is due within this, else time.Sleep (0: always sleep)")
	flag.DurationVar(&c.tickEvery, "tick-every", time.Millisecond, "market-data tick period per shard")
	flag.IntVar(&c.symbols, "symbols", 64, "symbols")
	flag.IntVar(&c.accounts, "accounts", 1024, "accounts")
	flag.IntVar(&c.shards, "shards", 0, "pipelines (0: one per P)")
	flag.IntVar(&c.subscribers, "subscribers", 1, "subscribers per shard")
	flag.Float64Var(&c.cancel, "cancel", 10, "percent cancels")
	flag.Float64Var(&c.market, "market", 5, "percent market orders")
	flag.Float64Var(&c.malformedPct, "malformed", 0.1, "percent malformed")
	flag.Float64Var(&c.overLimit, "over-limit", 0.5, "percent over a risk limit")
	flag.Int64Var(&c.seed, "seed", 1, "random seed")
	flag.Parse()
	if c.rate <= 0 || c.duration <= 0 || c.symbols < 1 || c.accounts < 1 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "orders-go: -rate, -duration, -symbols, -accounts and -procs must be positive")
		os.Exit(2)
	}
	c.cancel, c.market, c.malformedPct, c.overLimit = c.cancel/100, c.market/100, c.malformedPct/100, c.overLimit/100
	runtime.GOMAXPROCS(*procs)
	if c.shards == 0 {
		c.shards = *procs
	}
	if c.shards > c.symbols {
		c.shards = c.symbols
	}
	const base = 10000
	risk := NewRisk(uint32(c.symbols), uint32(c.accounts), base)
	shards := make([]*shard, c.shards)
	var subsDone sync.WaitGroup
	var stop atomic.Bool
	for i := range shards {
		s := &shard{id: i, parseIn: make(chan *Batch, 1024), riskIn: make(chan item, 1024), matchIn: make(chan *Batch, 1024),
			books: map[uint32]*Book{}}
		for sym := i; sym < c.symbols; sym += c.shards {
			s.books[uint32(sym)] = NewBook(uint32(sym))
		}
		shards[i] = s
	}
	start := nowNs() + 2_000_000
	end := start + int64(c.duration)
	giveUp := end + int64(math.Max(float64(c.duration), 1e9))
	measureFrom := start + int64(c.warmup)
	for _, s := range shards {
		for k := 0; k < c.subscribers; k++ {
			s.subs = append(s.subs, make(chan *Batch, 1024))
			st := &subStats{}
			s.stats = append(s.stats, st)
			subsDone.Add(1)
			go subscriber(s.subs[k], st, measureFrom, &subsDone)
		}
		s.tickersDone.Add(1)
		go matchStage(s, risk)
		go riskStage(s, risk)
		go parseStage(s, c)
		go ticker(s, c, risk, &stop, base)
	}
	sent := make([]uint64, c.shards)
	unsent := make([]uint64, c.shards)
	batches := make([]uint64, c.shards)
	var gens sync.WaitGroup
	for i, s := range shards {
		gens.Add(1)
		go func(i int, s *shard) {
			generator(s, c, risk, start, end, giveUp, &sent[i], &unsent[i], &batches[i])
			gens.Done()
		}(i, s)
	}
	gens.Wait()
	stop.Store(true)
	subsDone.Wait()
	os.Exit(report(c, shards, start, end, sum(sent), sum(unsent), sum(batches)))
}

func sum(v []uint64) (n uint64) {
	for _, x := range v {
		n += x
	}
	return
}
