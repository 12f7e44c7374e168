package ob

// plainByte marks the bytes of plain text: printable ASCII except the
// quote, the backslash and the characters JSON encoders escape for HTML
// (<, > and &).
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// PlainText reports whether s is plain text: printable ASCII without the
// quote, the backslash, <, > or &. Such text is written in JSON as it is,
// between quotes, exactly as encoding/json writes it. The store marks
// transactions whose text is all plain when it stores them, so that
// encoding a page need not look at every byte again.
func PlainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			return false
		}
	}
	return true
}
