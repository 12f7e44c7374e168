package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Thumbprint returns the RFC 8705 "x5t#S256" confirmation value of cert: the
// unpadded base64url encoding of the SHA-256 digest of its DER encoding.
// Access tokens are bound to a client certificate with cnf.x5t#S256.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// attributeName returns the short name SubjectDN writes for an attribute
// type OID. All but organizationIdentifier are in RFC 4514 §3 or are what
// Go's pkix package writes; organizationIdentifier (X.520, 2.5.4.97) is added
// because eIDAS/OBWAC certificates carry it and OpenSSL-style DNs name it.
func attributeName(oid string) (string, bool) {
	switch oid {
	case "2.5.4.3":
		return "CN", true
	case "2.5.4.5":
		return "SERIALNUMBER", true
	case "2.5.4.6":
		return "C", true
	case "2.5.4.7":
		return "L", true
	case "2.5.4.8":
		return "ST", true
	case "2.5.4.9":
		return "STREET", true
	case "2.5.4.10":
		return "O", true
	case "2.5.4.11":
		return "OU", true
	case "2.5.4.17":
		return "POSTALCODE", true
	case "2.5.4.97":
		return "organizationIdentifier", true
	case "0.9.2342.19200300.100.1.1":
		return "UID", true
	case "0.9.2342.19200300.100.1.25":
		return "DC", true
	}
	return "", false
}

// attributeOID is the case-insensitive inverse of attributeName, used when
// parsing, so that "cn" and "2.5.4.3" both mean the common name.
func attributeOID(name string) (string, bool) {
	switch strings.ToUpper(name) {
	case "CN":
		return "2.5.4.3", true
	case "SERIALNUMBER":
		return "2.5.4.5", true
	case "C":
		return "2.5.4.6", true
	case "L":
		return "2.5.4.7", true
	case "ST":
		return "2.5.4.8", true
	case "STREET":
		return "2.5.4.9", true
	case "O":
		return "2.5.4.10", true
	case "OU":
		return "2.5.4.11", true
	case "POSTALCODE":
		return "2.5.4.17", true
	case "ORGANIZATIONIDENTIFIER":
		return "2.5.4.97", true
	case "UID":
		return "0.9.2342.19200300.100.1.1", true
	case "DC":
		return "0.9.2342.19200300.100.1.25", true
	}
	return "", false
}

// SubjectDN returns the subject of cert as an RFC 4514 string, which is the
// format of DCR's tls_client_auth_subject_dn.
//
// The format, precisely:
//   - RDNs appear in the reverse of their encoded order, as RFC 4514 §2.1
//     requires. Certificates encode the most significant RDN (C) first, so
//     for OB transport certificates, and those issued by IssueClientCert,
//     the string starts with CN: "CN=<software_id>,OU=<org_id>,O=<org>,C=GB",
//     which matches OB's pattern ^[Cc][Nn]=[^,]+(?:,[^,\s]+=[^,]+)*$.
//   - RDNs are separated by "," and the attributes of a multi-valued RDN by
//     "+", with no spaces.
//   - Attribute types are the upper-case short names of RFC 4514 (CN, L, ST,
//     O, OU, C, STREET, DC, UID) plus SERIALNUMBER, POSTALCODE and
//     organizationIdentifier; other types are dotted OIDs.
//   - String values are escaped as RFC 4514 §2.4 requires (",", "+", "\"",
//     "\\", "<", ">", ";", a leading "#" or space, a trailing space, NUL);
//     values of dotted-OID types, and values that are not strings, are "#"
//     followed by the hex of their DER encoding.
//
// Compare DNs with EqualDN, not ==: clients write types in lower case and
// put spaces after commas.
func SubjectDN(cert *x509.Certificate) string {
	var seq rawRDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil || len(rest) != 0 {
		// Unreachable for certificates that x509.ParseCertificate accepted
		// (it parses the same bytes); an empty DN matches nothing.
		return ""
	}
	return formatRDNSequence(seq)
}

// rawRDNSequence mirrors pkix.RDNSequence but keeps each value's DER, so
// that values SubjectDN must hex-encode keep their original string tag.
// The "SET" suffix of rawRDNSET tells encoding/asn1 it is a SET OF.
type (
	rawRDNSequence []rawRDNSET
	rawRDNSET      []rawAttributeTypeAndValue
)

type rawAttributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

func formatRDNSequence(seq rawRDNSequence) string {
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if i != len(seq)-1 {
			b.WriteByte(',')
		}
		for j, atv := range seq[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			oid := atv.Type.String()
			name, known := attributeName(oid)
			var value any
			_, err := asn1.Unmarshal(atv.Value.FullBytes, &value)
			s, isString := value.(string)
			switch {
			case known && err == nil && isString:
				b.WriteString(name)
				b.WriteByte('=')
				b.WriteString(escapeDNValue(s))
			case known:
				b.WriteString(name)
				b.WriteString("=#")
				b.WriteString(hex.EncodeToString(atv.Value.FullBytes))
			default:
				b.WriteString(oid)
				b.WriteString("=#")
				b.WriteString(hex.EncodeToString(atv.Value.FullBytes))
			}
		}
	}
	return b.String()
}

// escapeDNValue escapes s as an RFC 4514 attribute value.
func escapeDNValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '#' && i == 0, c == ' ' && (i == 0 || i == len(s)-1):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == 0:
			b.WriteString(`\00`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// checkPlainDNValue reports an error if v is empty, is not UTF-8 or would
// need escaping in an RFC 4514 string (or the OB pattern would reject it).
func checkPlainDNValue(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	if !utf8.ValidString(v) {
		return errors.New("value is not UTF-8")
	}
	if escapeDNValue(v) != v || strings.ContainsAny(v, "=\r\n\t") {
		return fmt.Errorf("value %q contains characters not allowed in a subject DN (,+\"\\<>;= or leading/trailing space or #)", v)
	}
	return nil
}

// dnAttribute is one parsed attribute type and value in canonical form:
// the type as a dotted OID when known (else the lower-cased name) and the
// unescaped value.
type dnAttribute struct {
	typ, value string
}

// CheckDN reports whether s is an RFC 4514 distinguished name string that
// EqualDN can compare, e.g. to validate tls_client_auth_subject_dn at
// registration. It is lenient in the ways clients are: attribute types are
// case-insensitive and may be short names or dotted OIDs, and spaces around
// "=", "," and "+" are ignored.
func CheckDN(s string) error {
	_, err := parseDN(s)
	return err
}

// EqualDN reports whether a and b name the same distinguished name. It
// matches attribute types case-insensitively (and "CN" equals "2.5.4.3"),
// ignores spaces around "=", "," and "+", unescapes values (so "\2C" equals
// "\,"), decodes "#"-hex string values, and compares the attributes of a
// multi-valued RDN as a set. RDN order matters, and values are compared
// exactly: case-insensitive value matching (X.520 caseIgnoreMatch) is
// deliberately not done, because a DN identifies a client and a stricter
// match can only refuse, never wrongly accept.
//
// A string that does not parse equals nothing.
func EqualDN(a, b string) bool {
	da, err := parseDN(a)
	if err != nil {
		return false
	}
	db, err := parseDN(b)
	if err != nil {
		return false
	}
	return slices.EqualFunc(da, db, func(x, y []dnAttribute) bool {
		return slices.Equal(x, y)
	})
}

// SubjectMatchesDN reports whether cert's subject equals dn under EqualDN.
func SubjectMatchesDN(cert *x509.Certificate, dn string) bool {
	return EqualDN(SubjectDN(cert), dn)
}

// parseDN parses an RFC 4514 string into RDNs, each a sorted set of
// canonical attributes, in string order.
func parseDN(s string) ([][]dnAttribute, error) {
	p := &dnParser{s: s}
	var dn [][]dnAttribute
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("pki: empty DN")
	}
	for {
		var rdn []dnAttribute
		for {
			atv, err := p.attribute()
			if err != nil {
				return nil, err
			}
			rdn = append(rdn, atv)
			if p.eof() || p.peek() == ',' {
				break
			}
			p.i++ // '+'
		}
		slices.SortFunc(rdn, func(x, y dnAttribute) int {
			if c := strings.Compare(x.typ, y.typ); c != 0 {
				return c
			}
			return strings.Compare(x.value, y.value)
		})
		dn = append(dn, rdn)
		if p.eof() {
			return dn, nil
		}
		p.i++ // ','
	}
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) eof() bool  { return p.i >= len(p.s) }
func (p *dnParser) peek() byte { return p.s[p.i] }

func (p *dnParser) skipSpaces() {
	for !p.eof() && p.peek() == ' ' {
		p.i++
	}
}

func (p *dnParser) errorf(format string, args ...any) error {
	return fmt.Errorf("pki: invalid DN %q at offset %d: %s", p.s, p.i, fmt.Sprintf(format, args...))
}

// attribute parses `type "=" value` with surrounding spaces and leaves the
// parser at the following separator or the end.
func (p *dnParser) attribute() (dnAttribute, error) {
	p.skipSpaces()
	start := p.i
	for !p.eof() && p.peek() != '=' && p.peek() != ' ' {
		c := p.peek()
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return dnAttribute{}, p.errorf("invalid character %q in attribute type", c)
		}
		p.i++
	}
	name := p.s[start:p.i]
	p.skipSpaces()
	if name == "" || p.eof() || p.peek() != '=' {
		return dnAttribute{}, p.errorf("expected attribute type followed by '='")
	}
	p.i++ // '='
	typ := canonicalType(name)
	if typ == "" {
		return dnAttribute{}, p.errorf("invalid attribute type %q", name)
	}
	p.skipSpaces()

	var value string
	var err error
	if !p.eof() && p.peek() == '#' {
		value, err = p.hexValue()
	} else {
		value, err = p.stringValue()
	}
	if err != nil {
		return dnAttribute{}, err
	}
	return dnAttribute{typ: typ, value: value}, nil
}

// canonicalType returns the dotted OID for a known short name or an OID, the
// lower-cased name for an unknown descriptor, or "" if name is malformed.
func canonicalType(name string) string {
	if c := name[0]; c >= '0' && c <= '9' {
		for _, part := range strings.Split(name, ".") {
			if part == "" || strings.Trim(part, "0123456789") != "" || (len(part) > 1 && part[0] == '0') {
				return ""
			}
		}
		return name
	}
	if oid, ok := attributeOID(name); ok {
		return oid
	}
	if strings.Contains(name, ".") {
		return ""
	}
	return strings.ToLower(name)
}

// hexValue parses "#" hexstring. When the DER is a string type it yields
// that string, so that "CN=#0c03616263" equals "CN=abc"; otherwise it keeps
// the canonical "#"-lower-hex form.
func (p *dnParser) hexValue() (string, error) {
	p.i++ // '#'
	start := p.i
	for !p.eof() && isHex(p.peek()) {
		p.i++
	}
	raw := p.s[start:p.i]
	p.skipSpaces()
	if !p.eof() && p.peek() != ',' && p.peek() != '+' {
		return "", p.errorf("unexpected %q after hex value", p.peek())
	}
	der, err := hex.DecodeString(raw)
	if err != nil || len(der) == 0 {
		return "", p.errorf("invalid hex value")
	}
	var v any
	if rest, err := asn1.Unmarshal(der, &v); err == nil && len(rest) == 0 {
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return "#" + strings.ToLower(raw), nil
}

// stringValue parses an RFC 4514 string value up to an unescaped ',' or
// '+', unescaping it and dropping unescaped trailing spaces.
func (p *dnParser) stringValue() (string, error) {
	var b []byte
	keep := 0 // length of b up to and including the last escaped or non-space byte
	for !p.eof() {
		c := p.peek()
		switch c {
		case ',', '+':
			return p.finishValue(b, keep)
		case '\\':
			p.i++
			if p.eof() {
				return "", p.errorf("dangling escape")
			}
			c = p.peek()
			if isHex(c) {
				if p.i+1 >= len(p.s) || !isHex(p.s[p.i+1]) {
					return "", p.errorf("invalid hex escape")
				}
				v, _ := hex.DecodeString(p.s[p.i : p.i+2])
				b = append(b, v[0])
				p.i += 2
			} else if strings.IndexByte(` "#+,;<=>\`, c) >= 0 {
				b = append(b, c)
				p.i++
			} else {
				return "", p.errorf("invalid escape of %q", c)
			}
			keep = len(b)
		case '"', ';', '<', '>':
			// RFC 4514 requires these to be escaped; accepting them bare
			// would make two spellings of one DN compare unequal elsewhere.
			return "", p.errorf("unescaped %q in value", c)
		default:
			b = append(b, c)
			p.i++
			if c != ' ' {
				keep = len(b)
			}
		}
	}
	return p.finishValue(b, keep)
}

func (p *dnParser) finishValue(b []byte, keep int) (string, error) {
	v := b[:keep]
	if len(v) == 0 {
		return "", p.errorf("empty attribute value")
	}
	if !utf8.Valid(v) {
		return "", p.errorf("value is not UTF-8")
	}
	return string(v), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
