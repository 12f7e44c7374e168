package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func atv(oid asn1.ObjectIdentifier, v any) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: oid, Value: v}
}

var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidC      = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidOrgID  = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidSerial = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidEmail  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// certWithSubject returns a certificate whose RawSubject encodes seq, which
// is all SubjectDN reads.
func certWithSubject(t *testing.T, seq pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{RawSubject: raw}
}

func TestSubjectDN(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  pkix.RDNSequence
		want string
	}{
		{
			name: "OB transport certificate order",
			seq: pkix.RDNSequence{
				{atv(oidC, "GB")}, {atv(oidO, "OpenBanking")}, {atv(oidOU, "0015800001041REAAY")}, {atv(oidCN, "2sVmaQ5yT3r0pZ9NhmY3uC")},
			},
			want: "CN=2sVmaQ5yT3r0pZ9NhmY3uC,OU=0015800001041REAAY,O=OpenBanking,C=GB",
		},
		{
			name: "OBWAC with organizationIdentifier",
			seq: pkix.RDNSequence{
				{atv(oidC, "GB")}, {atv(oidO, "Acme Ltd")}, {atv(oidOrgID, "PSDGB-FCA-123456")}, {atv(oidCN, "0015800001041REAAY")},
			},
			want: "CN=0015800001041REAAY,organizationIdentifier=PSDGB-FCA-123456,O=Acme Ltd,C=GB",
		},
		{
			name: "escaping",
			seq: pkix.RDNSequence{
				{atv(oidO, "Acme, Inc+Co")}, {atv(oidOU, "#1 ")}, {atv(oidCN, ` a"b\c<d>;`)},
			},
			want: `CN=\ a\"b\\c\<d\>\;,OU=\#1\ ,O=Acme\, Inc\+Co`,
		},
		{
			name: "multi-valued RDN",
			seq:  pkix.RDNSequence{{atv(oidC, "GB")}, {atv(oidCN, "a"), atv(oidSerial, "42")}},
			want: "CN=a+SERIALNUMBER=42,C=GB",
		},
		{
			name: "known type with non-string value",
			seq:  pkix.RDNSequence{{atv(oidCN, 7)}},
			want: "CN=#020107",
		},
		{
			name: "unknown attribute type",
			// IA5String "x@y": the hex keeps the original string tag (22).
			seq:  pkix.RDNSequence{{atv(oidEmail, asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte("x@y")})}, {atv(oidCN, "a")}},
			want: "CN=a,1.2.840.113549.1.9.1=#1603784079",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SubjectDN(certWithSubject(t, tc.seq))
			if got != tc.want {
				t.Errorf("SubjectDN = %q, want %q", got, tc.want)
			}
			if err := CheckDN(got); err != nil {
				t.Errorf("CheckDN(SubjectDN) = %v", err)
			}
			if !EqualDN(got, tc.want) {
				t.Error("SubjectDN output does not equal itself under EqualDN")
			}
		})
	}
}

func TestSubjectDNOfIssuedCertificate(t *testing.T) {
	ca := keys(t).ca
	cert, err := ca.IssueClientCert(ecKey(t).Public(), ClientCertRequest{SoftwareID: "sw1", OrgID: "org1", OrgName: "Acme Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	for _, dn := range []string{
		"CN=sw1,OU=org1,O=Acme Ltd,C=GB",
		"cn=sw1, ou=org1, o=Acme Ltd, c=GB",
		"CN = sw1 ,OU= org1,O =Acme Ltd , C=GB ",
		"2.5.4.3=sw1,2.5.4.11=org1,2.5.4.10=Acme Ltd,2.5.4.6=GB",
	} {
		if !SubjectMatchesDN(cert, dn) {
			t.Errorf("SubjectMatchesDN(%q) = false", dn)
		}
	}
	if SubjectMatchesDN(cert, "CN=sw1,OU=org1,O=Acme Ltd,C=US") {
		t.Error("matched a different country")
	}
}

func TestEqualDN(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", "CN=a,OU=b,O=c,C=GB", "CN=a,OU=b,O=c,C=GB", true},
		{"type case", "CN=a,OU=b,O=c,C=GB", "cn=a,Ou=b,o=c,c=GB", true},
		{"spaces around separators", "CN=a,OU=b,O=c,C=GB", " CN = a , OU=b,  O=c ,C=GB  ", true},
		{"OID types", "CN=a,C=GB", "2.5.4.3=a,2.5.4.6=GB", true},
		{"organizationIdentifier spellings", "CN=a,organizationIdentifier=PSDGB-FCA-1", "CN=a,2.5.4.97=PSDGB-FCA-1", true},
		{"organizationIdentifier case", "CN=a,ORGANIZATIONIDENTIFIER=x", "CN=a,organizationidentifier=x", true},
		{"hex escape", `CN=a\,b`, `CN=a\2Cb`, true},
		{"hex escape lower case", `CN=a\2cb`, `CN=a\2Cb`, true},
		{"UTF-8 hex escape", `CN=caf\C3\A9`, "CN=café", true},
		{"hex value", "CN=#0c03616263", "CN=abc", true},
		{"hex PrintableString", "CN=#1303616263", "CN=abc", true},
		{"escaped space kept", `CN=a\ `, "CN=a", false},
		{"escaped leading space", `CN=\ a`, `CN= \ a`, true},
		{"inner space kept", "O=Acme Ltd", "O=AcmeLtd", false},
		{"multi-valued order", "CN=a+SERIALNUMBER=1,C=GB", "SERIALNUMBER=1 + CN=a,C=GB", true},
		{"value case", "CN=abc", "CN=ABC", false},
		{"RDN order", "CN=a,OU=b", "OU=b,CN=a", false},
		{"extra RDN", "CN=a,OU=b", "CN=a,OU=b,C=GB", false},
		{"different type", "CN=a", "OU=a", false},
		{"unknown descriptor case", "emailAddress=x", "EMAILADDRESS=x", true},
		{"invalid a", "CN", "CN", false},
		{"empty", "", "", false},
		{"empty value", "CN=", "CN=", false},
		{"unescaped quote", `CN=a"b`, `CN=a"b`, false},
		{"dangling escape", `CN=a\`, `CN=a\`, false},
		{"bad escape", `CN=a\x`, `CN=a\x`, false},
		{"bad OID", "2.5..4=a", "2.5..4=a", false},
		{"trailing comma", "CN=a,", "CN=a,", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EqualDN(tc.a, tc.b); got != tc.want {
				t.Errorf("EqualDN(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := EqualDN(tc.b, tc.a); got != tc.want {
				t.Errorf("EqualDN(%q, %q) = %v, want %v (not symmetric)", tc.b, tc.a, got, tc.want)
			}
		})
	}
}
