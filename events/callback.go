package events

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// CallbackPolicy decides which callback URLs the bank will call.
//
// A callback URL must be https, end in /{version}/event-notifications
// ([EV]: the segment before event-notifications is a version such as
// "v3.1" or "3.1"), carry no user info or fragment, and its host must be,
// or resolve only to, public unicast addresses: never loopback, private
// (RFC 1918, fc00::/7), link-local (169.254/16 — cloud metadata — and
// fe80::/10), CGNAT, multicast, unspecified, documentation or otherwise
// reserved ranges. AllowPrivate lifts the address rule only, for tests and
// the demo, where the TPP runs on the bank's own machine.
type CallbackPolicy struct {
	AllowPrivate bool
	// Resolver looks host names up (net.DefaultResolver when nil).
	Resolver *net.Resolver
}

// callbackPath is the required tail of a callback URL's path.
var callbackPath = regexp.MustCompile(`/v?[0-9]+(\.[0-9]+)*/event-notifications$`)

// CheckURL validates a callback URL at subscription time, resolving its
// host. The error's message is meant for the TPP: callers wrap it in their
// field error.
func (p CallbackPolicy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("CallbackUrl must be an absolute URL")
	}
	if u.Scheme != "https" {
		return errors.New("CallbackUrl must be an https URL")
	}
	if u.User != nil || u.Fragment != "" || u.RawQuery != "" {
		return errors.New("CallbackUrl must not carry user info, a query or a fragment")
	}
	if !callbackPath.MatchString(u.Path) {
		return errors.New("CallbackUrl must end with /{version}/event-notifications")
	}
	if p.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !PublicAddr(ip) {
			return fmt.Errorf("CallbackUrl host %s is not a public address", host)
		}
		return nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("CallbackUrl host %s does not resolve", host)
	}
	for _, a := range addrs {
		if !PublicAddr(a) {
			return fmt.Errorf("CallbackUrl host %s resolves to a non-public address", host)
		}
	}
	return nil
}

// nonPublic are the ranges PublicAddr refuses beyond what netip's
// predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: embeds an IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo...)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs
	netip.MustParsePrefix("::/96"),           // deprecated IPv4-compatible: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
}

// PublicAddr reports whether a is a public unicast address the bank may
// connect to on a TPP's behalf. IPv4-mapped IPv6 addresses are judged as
// the IPv4 address they carry.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() ||
		a.IsUnspecified() || a.Zone() != "" {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// errNonPublic is returned by the guarded dialer.
var errNonPublic = errors.New("events: refusing to connect to a non-public address")

// guardControl is a net.Dialer Control that refuses non-public addresses.
// It runs after DNS resolution, on the very address being connected to, so
// a host name that resolved to a public address at subscription time and
// to 127.0.0.1 now (DNS rebinding) is still refused.
func guardControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errNonPublic, address)
	}
	if !PublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", errNonPublic, ap.Addr())
	}
	return nil
}

// NewHTTPClient returns the client SETs are pushed with: no proxy (a proxy
// would make the bank connect to the proxy, not the checked address), no
// redirects (a 3xx is a failed attempt, never a hop to somewhere else),
// short timeouts, and unless policy.AllowPrivate a dialer that refuses
// non-public addresses. tlsConfig may be nil (system roots); tests pass one
// trusting their server.
func NewHTTPClient(policy CallbackPolicy, tlsConfig *tls.Config) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !policy.AllowPrivate {
		dialer.Control = guardControl
	}
	if policy.Resolver != nil {
		dialer.Resolver = policy.Resolver
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       tlsConfig,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       60 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// deliverableURL is the delivery-time re-check of a stored callback URL's
// form (the address is checked by the dialer).
func deliverableURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return errors.New("callback URL is not an https URL")
	}
	if !strings.HasSuffix(u.Path, "/event-notifications") {
		return errors.New("callback URL does not end with /event-notifications")
	}
	return nil
}
