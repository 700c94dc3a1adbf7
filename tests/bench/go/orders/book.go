// The order book, validation and risk of the Go twin of `gmprun orders`:
// the same rules as tools/gmprun/workloads/orders/{book,risk,engine}.cpp in
// Go's idiom (slices of levels with the best at the back, an intrusive FIFO
// per level, a map for the id index, atomics for shared risk state).
package main

import (
	"fmt"
	"sync/atomic"
)

const (
	sideBuy  = 1
	sideSell = 2

	kindLimit  = 1
	kindMarket = 2
	kindCancel = 3

	stResting   = 1
	stFilled    = 2
	stCancelled = 3
	stRejected  = 4
)

// Reject reasons: the same numbers and names as orders::Reject.
var rejectNames = []string{"none", "bad_side", "bad_kind", "bad_qty", "bad_price", "bad_field",
	"unknown_symbol", "unknown_account", "qty_limit", "notional_limit", "position_limit", "price_band",
	"unknown_order", "duplicate_id"}

const (
	rjNone = iota
	rjBadSide
	rjBadKind
	rjBadQty
	rjBadPrice
	rjBadField
	rjUnknownSymbol
	rjUnknownAccount
	rjQtyLimit
	rjNotionalLimit
	rjPositionLimit
	rjPriceBand
	rjUnknownOrder
	rjDuplicateID
	rjCount
)

func malformed(r int) bool { return r >= rjBadSide && r <= rjUnknownAccount }

type Order struct {
	ID      uint64
	Account uint32
	Symbol  uint32
	Price   int64
	Qty     uint32
	Side    uint8
	Kind    uint8
}

type Fill struct {
	TakerID, MakerID           uint64
	TakerAccount, MakerAccount uint32
	Symbol, Qty                uint32
	Price                      int64
	TakerSide                  uint8
	MakerDone                  bool
}

type Outcome struct {
	Status, Reason uint8
	Filled, Leaves uint32
}

type resting struct {
	id         uint64
	price      int64
	account    uint32
	qty        uint32
	side       uint8
	prev, next *resting
}

type level struct {
	price      int64
	qty        uint64
	count      uint32
	head, tail *resting
}

type Book struct {
	symbol     uint32
	bids, asks []level // bids ascending, asks descending: best at the back
	index      map[uint64]*resting
}

func NewBook(symbol uint32) *Book {
	return &Book{symbol: symbol, bids: make([]level, 0, 64), asks: make([]level, 0, 64), index: make(map[uint64]*resting, 512)}
}

func (b *Book) Submit(o *Order, onFill func(Fill)) Outcome {
	if _, dup := b.index[o.ID]; dup {
		return Outcome{Status: stRejected, Reason: rjDuplicateID}
	}
	buy := o.Side == sideBuy
	market := o.Kind == kindMarket
	opp := &b.asks
	if !buy {
		opp = &b.bids
	}
	leaves := o.Qty
	for leaves > 0 && len(*opp) > 0 {
		l := &(*opp)[len(*opp)-1]
		if !market && ((buy && l.price > o.Price) || (!buy && l.price < o.Price)) {
			break
		}
		for leaves > 0 && l.head != nil {
			m := l.head
			q := leaves
			if m.qty < q {
				q = m.qty
			}
			m.qty -= q
			l.qty -= uint64(q)
			leaves -= q
			f := Fill{TakerID: o.ID, MakerID: m.id, TakerAccount: o.Account, MakerAccount: m.account,
				Symbol: b.symbol, Qty: q, Price: l.price, TakerSide: o.Side, MakerDone: m.qty == 0}
			if f.MakerDone {
				l.head = m.next
				if l.head != nil {
					l.head.prev = nil
				} else {
					l.tail = nil
				}
				l.count--
				delete(b.index, m.id)
			}
			onFill(f)
		}
		if l.head == nil {
			*opp = (*opp)[:len(*opp)-1]
		}
	}
	out := Outcome{Filled: o.Qty - leaves}
	if leaves == 0 {
		out.Status = stFilled
		return out
	}
	if market {
		out.Status, out.Leaves = stCancelled, leaves
		return out
	}
	r := &resting{id: o.ID, price: o.Price, account: o.Account, qty: leaves, side: o.Side}
	side := &b.bids
	if !buy {
		side = &b.asks
	}
	l := levelForInsert(side, buy, o.Price)
	r.prev = l.tail
	if l.tail != nil {
		l.tail.next = r
	} else {
		l.head = r
	}
	l.tail = r
	l.qty += uint64(leaves)
	l.count++
	b.index[o.ID] = r
	out.Status, out.Leaves = stResting, leaves
	return out
}

func levelForInsert(side *[]level, ascending bool, price int64) *level {
	s := *side
	i := len(s)
	for i > 0 {
		l := &s[i-1]
		if l.price == price {
			return l
		}
		if (ascending && l.price < price) || (!ascending && l.price > price) {
			break
		}
		i--
	}
	s = append(s, level{})
	copy(s[i+1:], s[i:])
	s[i] = level{price: price}
	*side = s
	return &s[i]
}

func (b *Book) Cancel(id uint64, account uint32) Outcome {
	r, ok := b.index[id]
	if !ok || r.account != account {
		return Outcome{Status: stRejected, Reason: rjUnknownOrder}
	}
	side := &b.bids
	asc := true
	if r.side == sideSell {
		side, asc = &b.asks, false
	}
	s := *side
	for i := len(s) - 1; i >= 0; i-- {
		l := &s[i]
		if l.price != r.price {
			if (asc && l.price < r.price) || (!asc && l.price > r.price) {
				break
			}
			continue
		}
		if r.prev != nil {
			r.prev.next = r.next
		} else {
			l.head = r.next
		}
		if r.next != nil {
			r.next.prev = r.prev
		} else {
			l.tail = r.prev
		}
		l.qty -= uint64(r.qty)
		l.count--
		if l.count == 0 {
			*side = append(s[:i], s[i+1:]...)
		}
		break
	}
	delete(b.index, id)
	return Outcome{Status: stCancelled, Leaves: r.qty}
}

func (b *Book) RestingQty() (n uint64) {
	for _, l := range b.bids {
		n += l.qty
	}
	for _, l := range b.asks {
		n += l.qty
	}
	return
}

// Check verifies the same invariants as Book::check.
func (b *Book) Check() error {
	seen := 0
	for s, side := range [][]level{b.bids, b.asks} {
		buy := s == 0
		for i := range side {
			l := &side[i]
			if i > 0 && ((buy && side[i-1].price >= l.price) || (!buy && side[i-1].price <= l.price)) {
				return fmt.Errorf("symbol %d: levels out of order at %d", b.symbol, l.price)
			}
			var qty uint64
			var n uint32
			var prev *resting
			for r := l.head; r != nil; r = r.next {
				if r.prev != prev || r.qty == 0 || r.price != l.price || b.index[r.id] != r {
					return fmt.Errorf("symbol %d: bad resting order %d", b.symbol, r.id)
				}
				qty += uint64(r.qty)
				n++
				prev = r
			}
			if n == 0 || qty != l.qty || n != l.count || l.tail != prev {
				return fmt.Errorf("symbol %d: level %d sums do not match", b.symbol, l.price)
			}
			seen += int(n)
		}
	}
	if seen != len(b.index) {
		return fmt.Errorf("symbol %d: index holds %d, levels %d", b.symbol, len(b.index), seen)
	}
	if len(b.bids) > 0 && len(b.asks) > 0 && b.bids[len(b.bids)-1].price >= b.asks[len(b.asks)-1].price {
		return fmt.Errorf("symbol %d: crossed book", b.symbol)
	}
	return nil
}

// Limits and risk: as orders::Limits and orders::Risk.
type Risk struct {
	symbols, accounts uint32
	maxQty            uint32
	maxNotional       int64
	maxPosition       int64
	bandBps           int64
	ref               []atomic.Int64
	pos               []atomic.Int64
}

func NewRisk(symbols, accounts uint32, base int64) *Risk {
	r := &Risk{symbols: symbols, accounts: accounts, maxQty: 10000, maxNotional: 50_000_000, maxPosition: 1_000_000,
		bandBps: 1000, ref: make([]atomic.Int64, symbols), pos: make([]atomic.Int64, int(symbols)*int(accounts))}
	for i := range r.ref {
		r.ref[i].Store(base)
	}
	return r
}

func validate(o *Order, symbols, accounts uint32) int {
	if o.Kind != kindLimit && o.Kind != kindMarket && o.Kind != kindCancel {
		return rjBadKind
	}
	if o.ID == 0 {
		return rjBadField
	}
	if o.Symbol >= symbols {
		return rjUnknownSymbol
	}
	if o.Account >= accounts {
		return rjUnknownAccount
	}
	if o.Kind == kindCancel {
		if o.Qty != 0 {
			return rjBadQty
		}
		if o.Price != 0 {
			return rjBadPrice
		}
		return rjNone
	}
	if o.Side != sideBuy && o.Side != sideSell {
		return rjBadSide
	}
	if o.Qty == 0 {
		return rjBadQty
	}
	if (o.Kind == kindLimit && o.Price <= 0) || (o.Kind == kindMarket && o.Price != 0) {
		return rjBadPrice
	}
	return rjNone
}

func (r *Risk) Check(o *Order) int {
	if o.Kind == kindCancel {
		return rjNone
	}
	if o.Qty > r.maxQty {
		return rjQtyLimit
	}
	ref := r.ref[o.Symbol].Load()
	px := o.Price
	if o.Kind == kindMarket {
		px = ref
	}
	if int64(o.Qty)*px > r.maxNotional {
		return rjNotionalLimit
	}
	signed := int64(o.Qty)
	if o.Side == sideSell {
		signed = -signed
	}
	after := r.pos[int(o.Account)*int(r.symbols)+int(o.Symbol)].Load() + signed
	if after > r.maxPosition || after < -r.maxPosition {
		return rjPositionLimit
	}
	if o.Kind == kindLimit {
		d := o.Price - ref
		if d < 0 {
			d = -d
		}
		if d*10000 > r.bandBps*ref {
			return rjPriceBand
		}
	}
	return rjNone
}

func (r *Risk) OnFill(symbol, buyer, seller, qty uint32) {
	r.pos[int(buyer)*int(r.symbols)+int(symbol)].Add(int64(qty))
	r.pos[int(seller)*int(r.symbols)+int(symbol)].Add(-int64(qty))
}
