package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/obank/obank/ob"
)

// Pagination.
//
// Transactions page through the store's keyset cursor (ob.TxCursor). On the
// wire it is the opaque query parameter "cursor": base64url (no padding) of
//
//	version(1) mode(1) snapshot(uvarint) page(uvarint)
//	[ seconds(varint) nanos(uvarint) len(uvarint) id ]   only for After/Before
//	totals(1): 0 none | 1 total(uvarint) | 2 total(uvarint) first last
//
// where first and last (FirstAvailable/LastAvailable) are each
// seconds(varint) nanos(uvarint). The totals are the listing's Total and
// available range as the first page counted them at the snapshot
// (ob.TxTotals): later pages need not count again. A forged total only
// changes the forger's own page count, never which rows the grant reads.
//
// Decoding is strict: any other shape is 400 UK.OBIE.Field.Invalid, Path
// "cursor". A cursor is not a secret and not bound to a URL: it only
// positions a listing the grant is already allowed to read.
//
// "page=N" (1-based) is accepted too, for transactions and for every other
// collection (which are small and paginated in memory). Links First, Prev
// (iff page > 1), Next (iff a later page exists) and Last keep every other
// query parameter, and Meta.TotalPages is always set.

const (
	cursorVersion = 1
	maxCursorID   = 256
	maxPage       = 1 << 30
	maxTotal      = 1 << 50
)

var cursorEncoding = base64.RawURLEncoding

// encodeCursor returns the wire form of c.
func encodeCursor(c ob.TxCursor) string {
	b := make([]byte, 0, 64)
	b = append(b, cursorVersion, byte(c.Mode))
	b = binary.AppendUvarint(b, uint64(c.Snapshot))
	b = binary.AppendUvarint(b, uint64(c.Page))
	if c.Mode == ob.CursorAfter || c.Mode == ob.CursorBefore {
		b = binary.AppendVarint(b, c.Key.BookingDateTime.Unix())
		b = binary.AppendUvarint(b, uint64(c.Key.BookingDateTime.Nanosecond()))
		b = binary.AppendUvarint(b, uint64(len(c.Key.ID)))
		b = append(b, c.Key.ID...)
	}
	switch t := c.Totals; {
	case !t.Known:
		b = append(b, 0)
	case t.FirstAvailable.IsZero():
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(t.Total))
	default:
		b = append(b, 2)
		b = binary.AppendUvarint(b, uint64(t.Total))
		b = appendTime(b, t.FirstAvailable)
		b = appendTime(b, t.LastAvailable)
	}
	return cursorEncoding.EncodeToString(b)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func errCursor() error {
	return ob.FieldError(ob.CodeFieldInvalid, "cursor", "the cursor is malformed; follow the Links of a previous page")
}

// decodeCursor parses a wire cursor strictly.
func decodeCursor(s string) (ob.TxCursor, error) {
	b, err := cursorEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != cursorVersion {
		return ob.TxCursor{}, errCursor()
	}
	c := ob.TxCursor{Mode: ob.TxCursorMode(b[1])}
	if c.Mode < ob.CursorFirst || c.Mode > ob.CursorPage {
		return ob.TxCursor{}, errCursor()
	}
	b = b[2:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	nextTime := func() (time.Time, bool) {
		secs, n := binary.Varint(b)
		if n <= 0 {
			return time.Time{}, false
		}
		b = b[n:]
		nanos, ok := next()
		if !ok || nanos >= 1e9 {
			return time.Time{}, false
		}
		return time.Unix(secs, int64(nanos)).UTC(), true
	}
	snap, ok1 := next()
	page, ok2 := next()
	if !ok1 || !ok2 || snap > 1<<62 || page < 1 || page > maxPage {
		return ob.TxCursor{}, errCursor()
	}
	c.Snapshot, c.Page = int64(snap), int(page)
	if c.Mode == ob.CursorAfter || c.Mode == ob.CursorBefore {
		at, ok1 := nextTime()
		idLen, ok2 := next()
		if !ok1 || !ok2 || idLen == 0 || idLen > maxCursorID || uint64(len(b)) < idLen {
			return ob.TxCursor{}, errCursor()
		}
		c.Key = ob.TxKey{BookingDateTime: at, ID: string(b[:idLen])}
		b = b[idLen:]
	}
	if len(b) == 0 || b[0] > 2 {
		return ob.TxCursor{}, errCursor()
	}
	kind := b[0]
	b = b[1:]
	if kind > 0 {
		total, ok := next()
		if !ok || total > maxTotal {
			return ob.TxCursor{}, errCursor()
		}
		c.Totals = ob.TxTotals{Known: true, Total: int(total)}
	}
	if kind == 2 {
		first, ok1 := nextTime()
		last, ok2 := nextTime()
		if !ok1 || !ok2 || first.IsZero() || last.Before(first) {
			return ob.TxCursor{}, errCursor()
		}
		c.Totals.FirstAvailable, c.Totals.LastAvailable = first, last
	}
	if len(b) != 0 {
		return ob.TxCursor{}, errCursor()
	}
	if c.Mode == ob.CursorFirst && c.Page != 1 {
		return ob.TxCursor{}, errCursor()
	}
	return c, nil
}

// pageParam parses the optional "page" parameter: 0 when absent.
func pageParam(q url.Values) (int, error) {
	if !q.Has("page") {
		return 0, nil
	}
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 || n > maxPage {
		return 0, ob.FieldError(ob.CodeFieldInvalid, "page", "page must be a whole number from 1")
	}
	return n, nil
}

func errPageBeyond(total int) error {
	return ob.FieldError(ob.CodeFieldInvalid, "page", "page is beyond the last page ("+strconv.Itoa(total)+")")
}

// txCursorParam reads the transaction position from "cursor" or "page".
func txCursorParam(q url.Values) (ob.TxCursor, error) {
	page, err := pageParam(q)
	if err != nil {
		return ob.TxCursor{}, err
	}
	if !q.Has("cursor") {
		if page > 0 {
			return ob.TxCursor{Mode: ob.CursorPage, Page: page}, nil
		}
		return ob.TxCursor{Mode: ob.CursorFirst, Page: 1}, nil
	}
	if page > 0 {
		return ob.TxCursor{}, ob.FieldError(ob.CodeFieldInvalid, "page", "use either page or cursor, not both")
	}
	return decodeCursor(q.Get("cursor"))
}

// totalPages is the number of pages for total rows; an empty listing still
// has one (empty) page.
func totalPages(total, size int) int {
	if total <= 0 {
		return 1
	}
	return (total + size - 1) / size
}

// linker builds absolute Links for one request.
type linker struct {
	base  string     // public URL + path
	query url.Values // the request's query without page and cursor
	self  string
}

func (s *Server) linker(r *http.Request) linker {
	q := r.URL.Query()
	q.Del("page")
	q.Del("cursor")
	base := s.linkBase(r)
	return linker{base: base + r.URL.EscapedPath(), query: q, self: base + r.URL.RequestURI()}
}

// with returns the link with one extra parameter (page or cursor).
func (l linker) with(key, value string) string {
	q := make(url.Values, len(l.query)+1)
	for k, v := range l.query {
		q[k] = v
	}
	q.Set(key, value)
	return l.base + "?" + q.Encode()
}

// pageLinks returns Links and Meta for page-numbered listings.
func (l linker) pageLinks(page, pages int) (obLinks, obMeta) {
	links := obLinks{
		Self:  l.self,
		First: l.with("page", "1"),
		Last:  l.with("page", strconv.Itoa(pages)),
	}
	if page > 1 {
		links.Prev = l.with("page", strconv.Itoa(page-1))
	}
	if page < pages {
		links.Next = l.with("page", strconv.Itoa(page+1))
	}
	return links, obMeta{TotalPages: pages}
}

// paginate returns page number page (1-based; 0 means 1) of items.
func paginate[T any](items []T, page, size int) ([]T, int, int, error) {
	pages := totalPages(len(items), size)
	if page == 0 {
		page = 1
	}
	if page > pages {
		return nil, 0, 0, errPageBeyond(pages)
	}
	lo := (page - 1) * size
	hi := min(lo+size, len(items))
	return items[lo:hi], page, pages, nil
}

// pageEnds are the positions of a page's first and last transactions,
// where its Prev and Next cursors start; n is the number of rows.
type pageEnds struct {
	n           int
	first, last ob.TxKey
}

// add records t as the page's next row.
func (e *pageEnds) add(t *ob.Transaction) {
	if e.n == 0 {
		e.first = txKey(t)
	}
	e.last = txKey(t)
	e.n++
}

// txLinks returns Links and Meta for a page of transactions fetched with
// cursor c (page size size) whose rows end at ends. It also reports a page
// number beyond the end.
func (l linker) txLinks(c ob.TxCursor, p ob.TransactionPage, size int, ends pageEnds) (obLinks, obMeta, error) {
	pages := totalPages(p.Total, size)
	page := c.Page
	switch c.Mode {
	case ob.CursorFirst:
		page = 1
	case ob.CursorLast:
		page = pages
	}
	if page > pages {
		return obLinks{}, obMeta{}, errPageBeyond(pages)
	}
	totals := p.Totals()
	at := func(c ob.TxCursor) string {
		c.Snapshot, c.Totals = p.Snapshot, totals
		return l.with("cursor", encodeCursor(c))
	}
	links := obLinks{
		Self:  l.self,
		First: at(ob.TxCursor{Mode: ob.CursorFirst, Page: 1}),
		Last:  at(ob.TxCursor{Mode: ob.CursorLast, Page: pages}),
	}
	if page > 1 {
		if ends.n > 0 {
			links.Prev = at(ob.TxCursor{Mode: ob.CursorBefore, Key: ends.first, Page: page - 1})
		} else {
			links.Prev = at(ob.TxCursor{Mode: ob.CursorPage, Page: page - 1})
		}
	}
	if page < pages && ends.n > 0 {
		links.Next = at(ob.TxCursor{Mode: ob.CursorAfter, Key: ends.last, Page: page + 1})
	}
	meta := obMeta{
		TotalPages:             pages,
		FirstAvailableDateTime: formatTimePtr(p.FirstAvailable),
		LastAvailableDateTime:  formatTimePtr(p.LastAvailable),
	}
	return links, meta, nil
}

func txKey(t *ob.Transaction) ob.TxKey {
	return ob.TxKey{BookingDateTime: t.BookingDateTime, ID: t.ID}
}
